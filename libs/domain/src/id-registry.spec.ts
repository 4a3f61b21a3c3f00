import { IdRegistry } from './id-registry';

describe('IdRegistry', () => {
  it('knows what it was given, and nothing else', () => {
    let r = IdRegistry.empty();
    for (const id of ['e1', 'e2', 'e3']) r = r.add(id);
    expect(['e1', 'e2', 'e3', 'e4'].map((id) => r.has(id))).toEqual([true, true, true, false]);
    expect(r.add('e2')).toBe(r);
    expect(r.size).toBe(3);
  });

  it('never changes what an older version sees, also when versions branch', () => {
    const base = IdRegistry.empty().add('x').add('y');
    const left = base.add('a').add('l');
    const right = base.add('r').add('b');
    expect([base, left, right].map((v) => ['x', 'y', 'a', 'b', 'l', 'r'].filter((id) => v.has(id)))).toEqual([
      ['x', 'y'],
      ['x', 'y', 'a', 'l'],
      ['x', 'y', 'b', 'r'],
    ]);
    // The same id added to the same version again sees what the first addition saw, and no more.
    const again = base.add('a');
    expect([again.has('a'), again.has('l'), again.size]).toEqual([true, false, 3]);
  });

  it('keeps UUID text and other ids apart, exactly, past its first capacity and across a branch', () => {
    const uuid = (n: number) => `abcdef0${n}-0000-4000-8000-00000000000${n}`;
    let r = IdRegistry.empty();
    const given = [uuid(1), 'plain', uuid(2).toUpperCase(), uuid(3), '', uuid(4), uuid(5)];
    for (const id of given) r = r.add(id);
    const asked = [...given, uuid(2), uuid(1).toUpperCase(), uuid(6), 'Plain', ' '];
    expect(asked.map((id) => r.has(id))).toEqual([true, true, true, true, true, true, true, false, false, false, false, false]);
    // A branch from the fifth version: it sees the ids given before it and its own, not the other branch's.
    let v = IdRegistry.empty();
    for (const id of given.slice(0, 5)) v = v.add(id);
    const mine = v.add(uuid(7)).add('mine');
    expect([uuid(7), 'mine', uuid(4), uuid(2).toUpperCase(), 'plain'].map((id) => mine.has(id))).toEqual([true, true, false, true, true]);
    expect([uuid(7), 'mine', uuid(4)].map((id) => r.has(id))).toEqual([false, false, true]);
  });
});
