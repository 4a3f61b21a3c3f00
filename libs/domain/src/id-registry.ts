import { uuidText, uuidWords } from '@crm/contracts';

/** The ids every version of one registry was given, in order, and an index of them built only when asked. */
interface Shared {
  /** Four words per id: a UUID's 128 bits (canonical lowercase text), else zeros and the text in `texts`. */
  words: Int32Array;
  count: number;
  /** The ids that are not canonical UUID text, by their place. */
  texts: Map<number, string> | null;
  /** id → its first place, for the first `indexed` ids; null until the first `has`. */
  index: Map<string, number> | null;
  indexed: number;
}

/** Words of the id compared last (see Shared.words). */
const SCRATCH = new Int32Array(4);
const INITIAL_IDS = 4;

function emptyShared(capacity: number): Shared {
  return { words: new Int32Array(4 * capacity), count: 0, texts: null, index: null, indexed: 0 };
}

/** Appends `id` to the list (the linear case of IdRegistry.add). */
function push(s: Shared, id: string): void {
  if (4 * s.count === s.words.length) {
    const words = new Int32Array(2 * s.words.length);
    words.set(s.words);
    s.words = words;
  }
  if (!uuidWords(id, s.words, 4 * s.count)) {
    s.words.fill(0, 4 * s.count, 4 * s.count + 4);
    (s.texts ??= new Map()).set(s.count, id);
  }
  s.count++;
}

/** The id at place `i`. */
function idAt(s: Shared, i: number): string {
  return s.texts?.get(i) ?? uuidText(s.words, 4 * i);
}

/** Whether the id at place `i` is `id`. */
function isAt(s: Shared, i: number, id: string): boolean {
  const text = s.texts?.get(i);
  if (text !== undefined) return text === id;
  if (!uuidWords(id, SCRATCH, 0)) return false;
  const w = s.words;
  const k = 4 * i;
  return w[k] === SCRATCH[0] && w[k + 1] === SCRATCH[1] && w[k + 2] === SCRATCH[2] && w[k + 3] === SCRATCH[3];
}

/**
 * An append-only set of ids with persistent versions: adding returns a new registry and never changes
 * what an older version sees. Versions share one list of ids; a version sees the first `size` of them.
 * Adding in the linear case (decide, then evolve with the same events) appends to the list, O(1) and without
 * hashing; UUID ids are kept as 128 bits, not as strings. The index that `has` needs is built from the list on the
 * first `has` and kept up to date from then on. A write side whose store refuses a recorded id keeps none at all
 * (initialState({ trackEventIds: false })); this serves the others and the audit's re-derivations. Measured on a
 * 1M-line import: a Map per customer from id to place cost the main thread ~1-2 s of its ~13 s and kept every id
 * string alive (the young-generation collector copied each twice, and peak RSS was ~90 MB higher). Only a real
 * branch copies.
 */
export class IdRegistry {
  private constructor(
    private readonly shared: Shared,
    /** How many ids this version was given (one given again before any `has` counts twice; `has` is unaffected). */
    readonly size: number,
  ) {}

  static empty(): IdRegistry {
    return new IdRegistry(emptyShared(INITIAL_IDS), 0);
  }

  has(id: string): boolean {
    const s = this.shared;
    const index = (s.index ??= new Map());
    for (; s.indexed < s.count; s.indexed++) {
      const known = idAt(s, s.indexed);
      if (!index.has(known)) index.set(known, s.indexed);
    }
    const i = index.get(id);
    return i !== undefined && i < this.size;
  }

  add(id: string): IdRegistry {
    const s = this.shared;
    if (s.count === this.size) {
      if (s.index !== null && this.has(id)) return this; // already in this version (and asked before: the index is there)
      push(s, id);
      return new IdRegistry(s, this.size + 1);
    }
    if (isAt(s, this.size, id)) return new IdRegistry(s, this.size + 1); // another version added the same id here
    if (this.has(id)) return this;
    const branch = emptyShared(Math.max(INITIAL_IDS, this.size + 1)); // a branch: its own list
    branch.words.set(s.words.subarray(0, 4 * this.size));
    branch.count = this.size;
    if (s.texts !== null) for (const [i, text] of s.texts) if (i < this.size) (branch.texts ??= new Map()).set(i, text);
    push(branch, id);
    return new IdRegistry(branch, this.size + 1);
  }
}
