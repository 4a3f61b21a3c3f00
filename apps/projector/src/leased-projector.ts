import type { EventStore, Position } from '@crm/event-store';
import { ReadSide } from '@crm/projections';
import type { Checkpoint, CollectionWrites, Doc, Filter, FindOptions, IndexSpec, PipelineStage, ReadModelStore } from '@crm/read-model';

/** A write attempted while this instance does not (safely) hold the lease. */
export class LeaseLostError extends Error {
  constructor(owner: string) {
    super(`${owner} does not hold the projector lease (any more): write refused`);
    this.name = 'LeaseLostError';
  }
}

/**
 * The read-model store as the leader sees it: every write (commit, drop, checkpoint reset, indexes) first
 * checks that the lease is held, with a margin (`fence`), and throws LeaseLostError otherwise. Reads pass
 * through. `commits` counts the commits that went through (the /metrics of an instance; a standby's stays 0).
 */
export class FencedReadModelStore implements ReadModelStore {
  commits = 0;
  lastCommitted: Position = 0n;

  constructor(
    private readonly inner: ReadModelStore,
    private readonly fence: () => void,
  ) {}

  async commit(projection: string, batch: CollectionWrites[], position: bigint): Promise<void> {
    this.fence();
    await this.inner.commit(projection, batch, position);
    this.commits++;
    if (position > this.lastCommitted) this.lastCommitted = position;
  }
  async resetCheckpoint(projection: string): Promise<void> {
    this.fence();
    return this.inner.resetCheckpoint(projection);
  }
  async drop(collection: string): Promise<void> {
    this.fence();
    return this.inner.drop(collection);
  }
  async ensureIndexes(collection: string, indexes: IndexSpec[]): Promise<void> {
    this.fence();
    return this.inner.ensureIndexes(collection, indexes);
  }
  checkpoint(projection: string): Promise<Checkpoint | null> {
    return this.inner.checkpoint(projection);
  }
  findById(collection: string, id: string): Promise<Doc | null> {
    return this.inner.findById(collection, id);
  }
  findByIds(collection: string, ids: readonly string[]): Promise<Doc[]> {
    return this.inner.findByIds(collection, ids);
  }
  find(collection: string, filter?: Filter, options?: FindOptions): Promise<Doc[]> {
    return this.inner.find(collection, filter, options);
  }
  count(collection: string, filter?: Filter): Promise<number> {
    return this.inner.count(collection, filter);
  }
  aggregate(collection: string, pipeline: PipelineStage[]): Promise<Record<string, unknown>[]> {
    return this.inner.aggregate(collection, pipeline);
  }
  listCollections(): Promise<string[]> {
    return this.inner.listCollections();
  }
  acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    return this.inner.acquireLease(name, owner, ttlMs, now);
  }
  releaseLease(name: string, owner: string): Promise<void> {
    return this.inner.releaseLease(name, owner);
  }
  /** The owner of the inner store closes it. */
  async close(): Promise<void> {}
}

export interface LeasedProjectorOptions {
  leaseName: string;
  instanceId: string;
  leaseTtlMs: number;
  leaseRenewMs: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** Wall clock (epoch ms) for the lease; tests may move it. */
  now?: () => number;
  /** Pause between two catch-ups once the store's end is reached. Default 100 ms. */
  idleMs?: number;
}

export type Role = 'standby' | 'starting' | 'leader' | 'stopped';

/**
 * Runs the read side (every view, following the store) only while this instance holds the lease `leaseName` in the
 * read-model store:
 * - every `leaseRenewMs` it takes or renews the lease (`acquireLease` with `leaseTtlMs`); a standby retries
 *   at the same pace and takes over once the leader's lease has expired (a killed leader: after the TTL);
 * - writes are fenced: they are refused unless the lease was renewed less than `leaseTtlMs - leaseRenewMs`
 *   ago, so a leader that cannot renew (paused, partitioned) stops writing `leaseRenewMs` before anyone
 *   else may take over;
 * - when a renewal fails (another owner, or the store does not answer) or the projections stop on an
 *   error, it closes the read side, frees the lease if it still holds it and stands by again.
 * A new leader starts from the views' checkpoints; documents carry the position they include, so the few
 * events a replaced leader may have written past the checkpoint change nothing when applied again.
 */
export class LeasedProjector {
  private role: Role = 'standby';
  private heldUntil = 0;
  private readSide: ReadSide | null = null;
  private loop: Promise<void> | null = null;
  private failure: unknown = null;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private transition: Promise<void> = Promise.resolve();
  readonly fenced: FencedReadModelStore;
  private readonly now: () => number;
  /** How many times this instance became leader. */
  terms = 0;

  constructor(
    readonly store: EventStore,
    readonly readModel: ReadModelStore,
    private readonly options: LeasedProjectorOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.fenced = new FencedReadModelStore(readModel, () => {
      if (this.role === 'stopped' || this.now() >= this.heldUntil - options.leaseRenewMs) throw new LeaseLostError(options.instanceId);
    });
  }

  get currentRole(): Role {
    return this.role;
  }

  /** Position the views have committed (0 on a standby). */
  get position(): Position {
    return this.readSide?.position ?? 0n;
  }

  /** Starts competing for the lease; resolves after the first attempt. */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.options.leaseRenewMs);
  }

  /** Stops projecting and frees the lease. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    await this.stepDown('stopping');
    this.role = 'stopped';
  }

  private tick(): Promise<void> {
    if (this.ticking !== null) return this.ticking;
    this.ticking = this.renew().finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async renew(): Promise<void> {
    if (this.role === 'stopped') return;
    const error = this.failure;
    if (error !== null) {
      this.failure = null;
      this.log('error', 'projections stopped on an error: stepping down', { err: error instanceof Error ? error.message : String(error) });
      await this.stepDown('error');
      return;
    }
    const at = this.now();
    let held = false;
    try {
      held = await this.readModel.acquireLease(this.options.leaseName, this.options.instanceId, this.options.leaseTtlMs, at);
    } catch (err) {
      this.log('warn', 'lease renewal failed', { err: (err as Error).message });
    }
    if (held) {
      this.heldUntil = at + this.options.leaseTtlMs;
      if (this.role === 'standby') this.becomeLeader();
    } else if (this.role === 'leader' || this.role === 'starting') {
      this.heldUntil = 0;
      this.log('warn', 'lease lost: stopping the projections and standing by');
      await this.stepDown('lease lost');
    }
  }

  private becomeLeader(): void {
    this.role = 'starting';
    this.terms++;
    this.log('info', 'lease acquired: projecting', { lease: this.options.leaseName, instance: this.options.instanceId });
    this.transition = this.transition.then(async () => {
      try {
        const rs = await ReadSide.open(this.store, this.fenced, { live: false });
        if (this.role !== 'starting') {
          await rs.close();
          return;
        }
        this.readSide = rs;
        this.role = 'leader';
        this.log('info', 'projections caught up: following the store', { position: String(rs.position) });
        this.loop = this.follow(rs);
      } catch (err) {
        this.log('error', 'could not open the projections: standing by', { err: (err as Error).message });
        if (this.role === 'starting') this.role = 'standby';
        await this.release();
      }
    });
  }

  /**
   * Follows the store by repeated catch-ups rather than a live subscription: each catch-up applies
   * everything recorded so far in batches of up to 100,000 events, so when the projector falls behind its
   * batches grow and it writes each touched document once per batch (far fewer MongoDB writes per event).
   */
  private async follow(rs: ReadSide): Promise<void> {
    const idle = Math.max(1, this.options.idleMs ?? 100);
    while (this.role === 'leader' && this.readSide === rs) {
      try {
        const before = rs.position;
        await rs.catchUp();
        if (rs.position === before) await new Promise((r) => setTimeout(r, idle));
      } catch (err) {
        if (this.role === 'leader' && this.readSide === rs) this.failure = err;
        return;
      }
    }
  }

  private async stepDown(reason: string): Promise<void> {
    if (this.role === 'standby' || this.role === 'stopped') return;
    this.role = 'standby';
    await this.transition;
    await this.loop;
    this.loop = null;
    const rs = this.readSide;
    this.readSide = null;
    try {
      await rs?.close();
    } catch (err) {
      this.log('warn', 'closing the projections failed', { err: (err as Error).message });
    }
    await this.release();
    this.log('info', 'standing by', { reason });
  }

  private async release(): Promise<void> {
    this.heldUntil = 0;
    try {
      await this.readModel.releaseLease(this.options.leaseName, this.options.instanceId);
    } catch (err) {
      this.log('warn', 'could not free the lease (it expires by itself)', { err: (err as Error).message });
    }
  }

  private log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
    this.options.log?.(level, msg, fields);
  }
}
