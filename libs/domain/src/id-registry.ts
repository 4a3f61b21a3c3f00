/** The ids every version of one registry has added, in order, and an index of them built only when asked. */
interface Shared {
  ids: string[];
  /** id → its first place in `ids`, for the first `indexed` ids; null until the first `has`. */
  index: Map<string, number> | null;
  indexed: number;
}

/**
 * An append-only set of ids with persistent versions: adding returns a new registry and never changes
 * what an older version sees. Versions share one list of ids; a version sees the first `size` of them.
 * Adding in the linear case (decide, then evolve with the same events) is a push, O(1) and without hashing;
 * the index that `has` needs is built from the list on the first `has` and kept up to date from then on. A
 * write side whose every fact was checked against the store's unique ids never asks (RecordFact.eventIdChecked):
 * measured on a 1M-line import, hashing each id into a Map per customer was ~1-2 s of the main thread's ~13 s.
 * Only a real branch copies.
 */
export class IdRegistry {
  private constructor(
    private readonly shared: Shared,
    /** How many ids this version was given (one given again before any `has` counts twice; `has` is unaffected). */
    readonly size: number,
  ) {}

  static empty(): IdRegistry {
    return new IdRegistry({ ids: [], index: null, indexed: 0 }, 0);
  }

  has(id: string): boolean {
    const s = this.shared;
    const index = (s.index ??= new Map());
    for (; s.indexed < s.ids.length; s.indexed++) if (!index.has(s.ids[s.indexed])) index.set(s.ids[s.indexed], s.indexed);
    const i = index.get(id);
    return i !== undefined && i < this.size;
  }

  add(id: string): IdRegistry {
    const s = this.shared;
    if (s.ids.length === this.size) {
      if (s.index !== null && this.has(id)) return this; // already in this version (and asked before: the index is there)
      s.ids.push(id);
      return new IdRegistry(s, this.size + 1);
    }
    if (s.ids[this.size] === id) return new IdRegistry(s, this.size + 1); // another version added the same id here
    if (this.has(id)) return this;
    const ids = s.ids.slice(0, this.size); // a branch: its own list
    ids.push(id);
    return new IdRegistry({ ids, index: null, indexed: 0 }, this.size + 1);
  }
}
