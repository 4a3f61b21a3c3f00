import { CUSTOMER_STREAM_PREFIX, type EventStore, type Position } from '@crm/event-store';
import type { ReadModelStore } from '@crm/read-model';
import { CATALOG, type CatalogEntry, type ReadSide } from './read-side';

/**
 * What the API and the query handlers use of a read side: the catalog (which collection each view is read
 * from), the read-model store, positions and read-your-writes waits. `ReadSide` (projections run in this
 * process) and `ReadSideReader` (projections run by the projector deployable) both have it.
 */
export type ReadView = Pick<ReadSide, 'store' | 'readModel' | 'collection' | 'entries' | 'position' | 'readPosition' | 'error' | 'waitFor' | 'close' | 'rebuild'>;

/**
 * The query functions of ./queries take a `ReadSide` but use only `readModel` and `collection(view)`, which
 * every ReadView has: this hands a ReadView to them.
 */
export function asQueryable(view: ReadView): ReadSide {
  return view as unknown as ReadSide;
}

export interface ReadSideReaderOptions {
  /** How often the catalog and the checkpoints are re-read while nobody waits. Default 1,000 ms. */
  refreshMs?: number;
  /** How often `waitFor` polls the checkpoints. Default 25 ms. */
  pollMs?: number;
}

/** Thrown by `rebuild` on a reader: rebuilds belong to the process that runs the projections. */
export class ReadOnlyReadSideError extends Error {
  constructor() {
    super('this API only reads the projections; rebuilds run in the projector deployable (apps/projector)');
    this.name = 'ReadOnlyReadSideError';
  }
}

/**
 * A read side that runs no projection: it follows the catalog and the views' checkpoints that another
 * process (apps/projector) writes into a shared read-model store (MongoDB), and answers read-your-writes
 * waits by polling those checkpoints.
 *
 * - `position`: the lowest checkpoint of the catalog's collections (every view has committed it).
 * - `readPosition`: the same, or beyond it once a wait proved that no customer event lies between it and a
 *   later position (events of other streams, the period registry, have positions too).
 * - The catalog is re-read on every refresh, so a rebuild's switch (new collections) is followed.
 */
export class ReadSideReader implements ReadView {
  private catalog = new Map<string, CatalogEntry>();
  private committed: Position = 0n;
  private covered: Position = 0n;
  private failure: unknown = null;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private readonly pollMs: number;

  private constructor(
    readonly store: EventStore,
    readonly readModel: ReadModelStore,
    private readonly options: ReadSideReaderOptions,
  ) {
    this.pollMs = Math.max(1, options.pollMs ?? 25);
  }

  /** Reads the catalog and checkpoints once, then refreshes them in the background until close(). */
  static async open(store: EventStore, readModel: ReadModelStore, options: ReadSideReaderOptions = {}): Promise<ReadSideReader> {
    const r = new ReadSideReader(store, readModel, options);
    await r.refresh();
    const every = Math.max(10, options.refreshMs ?? 1000);
    r.timer = setInterval(() => void r.refresh().catch(() => undefined), every);
    r.timer.unref();
    return r;
  }

  collection(view: string): string {
    const e = this.catalog.get(view);
    if (e === undefined) throw new Error(`unknown view ${view}: the projector has not built it yet (no entry in ${CATALOG})`);
    return e.collection;
  }

  entries(): CatalogEntry[] {
    return [...this.catalog.values()];
  }

  get position(): Position {
    return this.committed;
  }

  get readPosition(): Position {
    return this.covered > this.committed ? this.covered : this.committed;
  }

  /** The last error reading the catalog or the checkpoints (cleared by the next successful read). */
  get error(): unknown {
    return this.failure;
  }

  /** Re-reads the catalog and every view's checkpoint (the lowest one is `position`). */
  refresh(): Promise<void> {
    if (this.refreshing !== null) return this.refreshing;
    this.refreshing = this.load().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async load(): Promise<void> {
    try {
      const catalog = new Map((await this.readModel.find(CATALOG)).map((d) => [d._id, d as unknown as CatalogEntry]));
      let min: Position | null = null;
      for (const e of catalog.values()) {
        const cp = await this.readModel.checkpoint(e.collection);
        const p = cp === null ? 0n : BigInt(cp.position);
        if (min === null || p < min) min = p;
      }
      this.catalog = catalog;
      this.committed = min ?? 0n;
      this.failure = null;
    } catch (err) {
      this.failure = err;
      throw err;
    }
  }

  /**
   * Read-your-writes: true once every view's checkpoint is at `position`, or once no customer event lies
   * between the checkpoints and `position` (which the store has reached); false after `timeoutMs`.
   */
  async waitFor(position: Position, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.readPosition >= position) return true;
      await this.refresh();
      if (this.readPosition >= position) return true;
      if (this.catalog.size > 0 && position <= (await this.store.headPosition()) && !(await this.customerEventBetween(this.committed, position))) {
        if (position > this.covered) this.covered = position;
        return true;
      }
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise((r) => setTimeout(r, Math.min(left, this.pollMs)));
    }
  }

  private async customerEventBetween(after: Position, upTo: Position): Promise<boolean> {
    for await (const e of this.store.readAll({ fromPosition: after, maxCount: 1, streamPrefix: CUSTOMER_STREAM_PREFIX })) return e.position <= upTo;
    return false;
  }

  rebuild(): ReturnType<ReadSide['rebuild']> {
    return Promise.reject(new ReadOnlyReadSideError());
  }

  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.refreshing?.catch(() => undefined);
  }
}
