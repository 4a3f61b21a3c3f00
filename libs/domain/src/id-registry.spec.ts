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
});
