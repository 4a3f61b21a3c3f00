/**
 * An append-only set of ids with persistent versions: adding returns a new registry and never changes
 * what an older version sees. Versions share one Map (id → insertion index); a version sees the ids
 * whose index is below its size. The linear case (decide, then evolve with the same events) is O(1);
 * only a real branch copies.
 */
export class IdRegistry {
  private constructor(
    private readonly index: Map<string, number>,
    readonly size: number,
  ) {}

  static empty(): IdRegistry {
    return new IdRegistry(new Map(), 0);
  }

  has(id: string): boolean {
    const i = this.index.get(id);
    return i !== undefined && i < this.size;
  }

  add(id: string): IdRegistry {
    const at = this.index.get(id);
    if (at !== undefined && at < this.size) return this; // already in this version
    if (at === this.size) return new IdRegistry(this.index, this.size + 1); // another version added the same id here
    let index = this.index;
    if (index.size !== this.size) index = new Map([...index].filter(([, i]) => i < this.size));
    index.set(id, this.size);
    return new IdRegistry(index, this.size + 1);
  }
}
