import { EventIdSet } from './event-id-set';

/** mulberry32: a tiny seeded PRNG, so every run replays the same ids and operations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX = '0123456789abcdef';

function randomUuid(rand: () => number): string {
  let h = '';
  for (let i = 0; i < 4; i++) h += ((rand() * 2 ** 32) >>> 0).toString(16).padStart(8, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** 00000000-0000-0000-0000-00000000000n: the test-style ids whose bits are anything but random. */
function sequentialUuid(n: number): string {
  return `00000000-0000-0000-0000-${n.toString(16).padStart(12, '0')}`;
}

const ZERO = '00000000-0000-0000-0000-000000000000';

/** Strings that are almost lowercase UUID text but not quite, so they must not share a key with `id`. */
function nearMisses(id: string): string[] {
  const near = [
    id.toUpperCase(),
    id.slice(0, 35) + id[35].toUpperCase().replace(/[0-9]/, 'A'), // one uppercase letter (or 'A' for a digit)
    id.slice(0, 35), // 35 chars
    id + '0', // 37 chars
    '0' + id.slice(0, 35), // 36 chars, dashes shifted by one
    ...[8, 13, 18, 23].flatMap((i) => [
      id.slice(0, i) + '0' + id.slice(i + 1), // a dash replaced by a digit
      id.slice(0, i) + '.' + id.slice(i + 1), // by the char after '-'
    ]),
    id.slice(0, 7) + '-' + id[7] + id.slice(9), // dash moved one place left
    id.slice(0, 35) + 'g', // 'g' is not hex
    id.slice(0, 35) + ':', // the char after '9'
    id.slice(0, 35) + '`', // the char before 'a'
    id.slice(0, 35) + '\u0130', // 'İ': its low byte is '0'
    id.slice(0, 35) + '\u0661', // Arabic-Indic digit one
    id.replace(/-/g, '').padEnd(36, '0'), // 36 hex digits, no dashes
    ` ${id.slice(1)}`,
  ];
  return [...new Set(near)].filter((n) => n !== id); // e.g. an all-digit id is its own uppercase
}

type Op = 'add' | 'has' | 'delete';

/** Applies the op to both and fails at the first step where result or size differ from the Set. */
function check(step: number, op: Op, id: string, set: EventIdSet, oracle: Set<string>): void {
  const before = oracle.size;
  const want = op === 'add' ? oracle.add(id).size !== before : oracle[op](id);
  const got = set[op](id);
  if (got !== want || set.size !== oracle.size) {
    expect({ step, op, id, result: got, size: set.size }).toEqual({ step, op, id, result: want, size: oracle.size });
  }
}

describe('EventIdSet', () => {
  it.each([1, 2, 3, 4])('gives the same results as a Set<string> over random operations (seed %i)', (seed) => {
    const rand = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const seen: string[] = [ZERO]; // every id used so far (up to 5,000)
    const uuids: string[] = [ZERO]; // the lowercase UUIDs among them
    const set = new EventIdSet();
    const oracle = new Set<string>();
    for (let step = 0; step < 60_000; step++) {
      const r = rand();
      let id: string;
      if (r < 0.3) uuids.push((id = randomUuid(rand)));
      else if (r < 0.6) id = pick(seen);
      else if (r < 0.7) id = pick(uuids).toUpperCase();
      else if (r < 0.8) id = pick(nearMisses(pick(uuids)));
      else if (r < 0.85) id = ZERO;
      else if (r < 0.95) id = sequentialUuid(Math.floor(rand() * 64));
      else id = pick(['', 'a', 'evt-1', '0', '-', ZERO.replace(/-/g, '')]);
      if (seen.length < 5_000) seen.push(id);
      const o = rand();
      check(step, o < 0.5 ? 'add' : o < 0.75 ? 'has' : 'delete', id, set, oracle);
    }
    expect(set.size).toBe(oracle.size);
  });

  it('keeps uppercase and mixed-case UUIDs apart from their lowercase twin', () => {
    const lower = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
    const upper = lower.toUpperCase();
    const mixed = '0F1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
    const set = new EventIdSet();
    expect(set.add(lower)).toBe(true);
    expect(set.has(upper)).toBe(false);
    expect(set.has(mixed)).toBe(false);
    expect(set.add(upper)).toBe(true);
    expect(set.add(mixed)).toBe(true);
    expect(set.size).toBe(3);
    expect(set.delete(lower)).toBe(true);
    expect([set.has(lower), set.has(upper), set.has(mixed), set.size]).toEqual([false, true, true, 2]);
    expect(set.add(lower)).toBe(true);
    expect(set.delete(upper)).toBe(true);
    expect([set.has(lower), set.has(upper), set.has(mixed), set.size]).toEqual([true, false, true, 2]);
  });

  it('keeps near-UUIDs (wrong dashes, non-hex chars, 35/37 chars) apart from the UUID and each other', () => {
    const rand = prng(7);
    for (const id of [randomUuid(rand), ZERO, 'ffffffff-ffff-ffff-ffff-ffffffffffff', sequentialUuid(1)]) {
      const near = nearMisses(id);
      expect(new Set(near).size).toBe(near.length); // the test's own variants are distinct
      const set = new EventIdSet();
      set.add(id);
      for (const n of near) expect([n, set.has(n)]).toEqual([n, false]);
      for (const n of near) expect([n, set.add(n)]).toEqual([n, true]);
      expect(set.size).toBe(near.length + 1);
      expect(set.delete(id)).toBe(true);
      for (const n of near) expect([n, set.has(n)]).toEqual([n, true]);
      expect(set.has(id)).toBe(false);
      expect(set.size).toBe(near.length);
    }
  });

  it('gives every one of the 32 hex digits its own 4 bits', () => {
    const base = '01234567-89ab-cdef-0123-456789abcdef';
    const ids = [base];
    for (let i = 0; i < 36; i++) {
      if (base[i] === '-') continue;
      for (const d of HEX) if (d !== base[i]) ids.push(base.slice(0, i) + d + base.slice(i + 1));
    }
    expect(ids).toHaveLength(1 + 32 * 15);
    const set = new EventIdSet();
    for (const id of ids) expect([id, set.add(id)]).toEqual([id, true]);
    expect(set.size).toBe(ids.length);
    for (const id of ids) expect([id, set.add(id)]).toEqual([id, false]);
    for (const id of ids) expect([id, set.has(id)]).toEqual([id, true]);
    expect(set.size).toBe(ids.length);
  });

  it('holds the all-zero UUID like any other id', () => {
    const set = new EventIdSet();
    expect(set.has(ZERO)).toBe(false);
    expect(set.delete(ZERO)).toBe(false);
    expect(set.size).toBe(0);
    expect(set.add(ZERO)).toBe(true);
    expect(set.has(ZERO)).toBe(true);
    expect(set.add(ZERO)).toBe(false);
    expect(set.size).toBe(1);
    expect(set.has(sequentialUuid(1))).toBe(false);
    expect(set.delete(ZERO)).toBe(true);
    expect(set.has(ZERO)).toBe(false);
    expect(set.size).toBe(0);
    expect(set.add(ZERO)).toBe(true);
    expect(set.size).toBe(1);
  });

  it('grows past several doublings without losing or inventing ids', () => {
    const rand = prng(11);
    const random: string[] = [];
    for (let i = 0; i < 200_000; i++) random.push(randomUuid(rand));
    const sequential: string[] = [];
    for (let i = 0; i < 100_000; i++) sequential.push(sequentialUuid(i));
    const ids = [...random, ...sequential];
    const oracle = new Set(ids);
    const set = new EventIdSet();
    const absent = Array.from({ length: 1_000 }, () => randomUuid(rand)).filter((id) => !oracle.has(id));
    const soFar = new Set<string>();
    for (let i = 0; i < ids.length; i++) {
      const want = soFar.size !== soFar.add(ids[i]).size;
      if (set.add(ids[i]) !== want) expect([i, ids[i], !want]).toEqual([i, ids[i], want]);
      if (i % 1_000 === 0) {
        expect(set.size).toBe(soFar.size);
        for (const id of absent) if (set.has(id)) expect(id).toBe('absent');
      }
    }
    expect(set.size).toBe(oracle.size);
    const missing = ids.filter((id) => !set.has(id));
    expect(missing).toEqual([]);
    expect(absent.filter((id) => set.has(id))).toEqual([]);
    expect(ids.filter((id) => set.add(id))).toEqual([]);

    // Delete every third id, then put them back.
    const gone = ids.filter((_, i) => i % 3 === 0);
    expect(gone.filter((id) => !set.delete(id))).toEqual([]);
    expect(set.size).toBe(oracle.size - new Set(gone).size);
    expect(ids.filter((id, i) => set.has(id) !== (i % 3 !== 0))).toEqual([]);
    expect(gone.filter((id) => set.delete(id))).toEqual([]);
    expect(gone.filter((id) => !set.add(id))).toEqual([]);
    expect(set.size).toBe(oracle.size);
    expect(ids.filter((id) => !set.has(id))).toEqual([]);
  });

  it('keeps its ids through a long churn of adds and deletes (tombstones)', () => {
    const rand = prng(13);
    const stable = Array.from({ length: 300 }, () => randomUuid(rand));
    const set = new EventIdSet();
    for (const id of stable) set.add(id);
    // Far more deletes than the table has slots, so tombstones pile up and must be cleared.
    const window: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      const id = i % 2 === 0 ? randomUuid(rand) : sequentialUuid(i);
      if (!set.add(id)) expect(id).toBe('added');
      window.push(id);
      if (window.length > 100) {
        const old = window.shift() as string;
        if (!set.delete(old)) expect(old).toBe('deleted');
        if (set.has(old)) expect(old).toBe('gone');
      }
    }
    expect(set.size).toBe(stable.length + window.length);
    expect(stable.filter((id) => !set.has(id))).toEqual([]);
    expect(window.filter((id) => !set.has(id))).toEqual([]);
    for (const id of window) expect(set.delete(id)).toBe(true);
    expect(set.size).toBe(stable.length);
    // Deleted then re-added: counts as new again.
    for (const id of window) expect(set.add(id)).toBe(true);
    expect(set.size).toBe(stable.length + window.length);
  });

  it('returns false for deletes of absent ids and changes nothing', () => {
    const rand = prng(17);
    const set = new EventIdSet();
    const uuid = randomUuid(rand);
    expect(set.delete(uuid)).toBe(false);
    expect(set.delete('not-a-uuid')).toBe(false);
    expect(set.size).toBe(0);
    set.add(uuid);
    set.add('not-a-uuid');
    expect(set.delete(uuid.toUpperCase())).toBe(false);
    expect(set.delete(randomUuid(rand))).toBe(false);
    expect(set.delete('not-a-uuid ')).toBe(false);
    expect(set.size).toBe(2);
    expect(set.delete(uuid)).toBe(true);
    expect(set.delete(uuid)).toBe(false);
    expect(set.delete('not-a-uuid')).toBe(true);
    expect(set.delete('not-a-uuid')).toBe(false);
    expect(set.size).toBe(0);
  });

  it('keeps no string for lowercase UUIDs, only for other ids', () => {
    // Not observable through the Set interface, but it is the point of the class: peek at the fallback Set.
    const rand = prng(19);
    const set = new EventIdSet();
    const fallback = (set as unknown as { fallback: Set<string> }).fallback;
    for (let i = 0; i < 1_000; i++) set.add(randomUuid(rand));
    set.add(ZERO);
    set.add(sequentialUuid(5));
    expect(fallback.size).toBe(0);
    const other = nearMisses(randomUuid(rand));
    for (const id of other) set.add(id);
    expect([...fallback].sort()).toEqual([...other].sort());
    expect(set.size).toBe(1_002 + other.length);
  });
});
