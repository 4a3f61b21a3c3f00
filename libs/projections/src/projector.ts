import { CUSTOMER_STREAM_PREFIX, customerStream, replayPages, type EventStore, type Position, type ReplayedEvent, type StoredEvent, type Subscription } from '@crm/event-store';
import { handOver, type CollectionWrites, type Doc, type DocWrite, type ReadModelStore } from '@crm/read-model';
import { CustomerView, CustomerViewBuilder } from './customer-view';
import { POSITION_FIELD, type ProjectionSink, type ViewProjection } from './projection';

/** Something a live projection makes happen outside the read model (an alert raised, say). */
export interface ProjectionEffect {
  view: string;
  kind: string;
  payload: Doc;
  position: Position;
}

export interface ProjectorOptions {
  /** Physical collection of each view (the catalog decides; see ReadSide). */
  collectionOf: (view: ViewProjection) => string;
  /** Events per batch while following live. Default 100,000. */
  maxBatch?: number;
  /**
   * Events per batch while catching up (a start, a rebuild): documents are made once per customer per
   * batch, so larger batches make far fewer of them (a replay of a long history touches most customers in
   * every batch). The folded events are not kept, and a customer's fold is kept anyway: a batch costs little
   * memory. Default 5,000,000 (a rebuild of the bench store, 2.4M events, makes each document once).
   */
  catchUpBatch?: number;
  onEffect?: (effect: ProjectionEffect) => void;
  onBatch?: (position: Position, events: number) => void;
}

interface Counter {
  doc: Doc;
  /** The position stamped on the document when it was loaded: events at or before it are already in it. */
  loadedAt: Position;
  dirty: boolean;
}

interface ViewState {
  view: ViewProjection;
  collection: string;
  /** Checkpoint when this projector started: the view has seen every event up to it. */
  startedAt: Position;
  counters: Map<string, Counter>;
  writes: DocWrite[];
  sink: ViewSink;
  /** The collection held documents when this projector started (a cold customer may have some there). */
  hadDocs: boolean;
}

/** A view's sink, told the position of the event (or customer change) being handled. */
interface ViewSink extends ProjectionSink {
  position: Position;
}

/** A customer this projector follows: its fold, and what a batch needs to know of it. */
interface Customer {
  customerId: string;
  builder: CustomerViewBuilder;
  /** The document made at the last batch that touched it (null: none yet). */
  view: CustomerView | null;
  /** The batch that touched it last (see Projector.batchNo). */
  batch: number;
  /** The document before the batch that touches it now (null: new to this projector). */
  before: CustomerView | null;
  /** Position of its last event in that batch. */
  last: Position;
}

const SENTINEL = Symbol('no event ready');
/** Events between two progress reports of a catch-up. */
const PROGRESS_EVERY = 100_000;

/** Waits for every promise, then throws the first failure: nothing is still running when the caller goes on. */
async function settleAll(promises: readonly Promise<void>[]): Promise<void> {
  for (const r of await Promise.allSettled(promises)) if (r.status === 'rejected') throw r.reason;
}

/**
 * Runs a set of views over the customer streams: folds each customer once (the Customer 360 builder, the
 * same `evolve` the write side uses) and hands every view the events and the changed documents. Each
 * view keeps its own checkpoint next to its documents; the projector starts at the lowest one and a view
 * skips what it has already seen. An event seen twice changes nothing: builders ignore positions they
 * have applied, keyed documents are replaced whole, and counter documents carry the position they include.
 *
 * One projector per set of collections at a time (a lease guards it across processes; see ReadSide).
 */
export class Projector {
  private readonly views: ViewState[];
  /** The views with an event handler (called for every event). */
  private readonly eventViews: ViewState[];
  /** The latest checkpoint among them: every one of them handles an event after it. */
  private eventViewsFrom: Position = 0n;
  /** Every customer met, by stream id (one lookup per event). */
  private readonly customers = new Map<string, Customer>();
  private readonly maxBatch: number;
  private readonly catchUpBatch: number;
  private from: Position = 0n;
  private pos: Position = 0n;
  private started = false;
  private subscription: Subscription | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private failure: unknown = null;
  private readonly waiters = new Set<() => void>();
  private idle = false;
  private effectsAfter: Position | null = null;
  /** A store position up to which nothing of ours was pending (waitFor found it); ≥ pos or stale. */
  private covered: Position = 0n;
  /** The batch being folded: its number, customers touched, position of its last event, effects raised. */
  private batchNo = 1;
  private touched: Customer[] = [];
  private batchEnd: Position = 0n;
  private effects: ProjectionEffect[] = [];

  constructor(
    private readonly store: EventStore,
    private readonly readModel: ReadModelStore,
    views: readonly ViewProjection[],
    private readonly options: ProjectorOptions,
  ) {
    this.views = views.map((view) => {
      const v = { view, collection: options.collectionOf(view), startedAt: 0n, counters: new Map(), writes: [], hadDocs: false } as unknown as ViewState;
      v.sink = this.makeSink(v);
      return v;
    });
    this.eventViews = this.views.filter((v) => v.view.onEvent !== undefined);
    this.maxBatch = options.maxBatch ?? 100_000;
    this.catchUpBatch = options.catchUpBatch ?? 5_000_000;
  }

  /** Loads checkpoints and counter documents, creates indexes. */
  async init(): Promise<void> {
    if (this.started) return;
    for (const v of this.views) {
      await this.readModel.ensureIndexes(v.collection, v.view.indexes);
      const cp = await this.readModel.checkpoint(v.collection);
      v.startedAt = cp === null ? 0n : BigInt(cp.position);
      v.hadDocs = v.view.perCustomer === true && (await this.readModel.count(v.collection)) > 0;
      if (v.view.counters === true)
        for (const doc of await this.readModel.find(v.collection))
          // Results are read-only: counters are changed in place, so keep a copy.
          v.counters.set(doc._id, { doc: structuredClone(doc), loadedAt: BigInt((doc[POSITION_FIELD] as string | undefined) ?? '0'), dirty: false });
    }
    this.from = this.views.reduce((min, v) => (v.startedAt < min ? v.startedAt : min), this.views[0]?.startedAt ?? 0n);
    this.eventViewsFrom = this.eventViews.reduce((max, v) => (v.startedAt > max ? v.startedAt : max), 0n);
    this.pos = this.from;
    this.batchEnd = this.from;
    this.started = true;
  }

  /**
   * Effects fire only for events after this position: those that arrive while the projector is live.
   * Replays (a restart, a rebuild) never repeat them. Until called, no effects fire.
   */
  fireEffectsAfter(position: Position): void {
    this.effectsAfter = position;
  }

  /** Position of the last event whose effects every view has committed. */
  get position(): Position {
    return this.pos;
  }

  /** Position the views reflect: the checkpoint, or beyond it when only other streams' events followed. */
  get readPosition(): Position {
    return this.covered > this.pos ? this.covered : this.pos;
  }

  /**
   * Applies everything recorded so far, in batches, then returns (rebuilds, the CLI, tests). `onProgress`
   * hears the position folded so far every 100,000 events, and the position committed after each batch
   * (the last call: every event this catch-up applied).
   */
  async catchUp(onProgress?: (position: Position, events: number) => void): Promise<Position> {
    await this.init();
    let done = 0;
    let pending = 0;
    /** Customers by the replay's stream numbers (when the store gives them): an array index instead of a map lookup per event. */
    const byIndex: Customer[] = [];
    // One pass over the store; documents are made once per customer per batch, and the events themselves are
    // not kept, so batches can be large.
    for await (const page of replayPages(this.store, { fromPosition: this.pos, streamPrefix: CUSTOMER_STREAM_PREFIX }))
      for (let i = 0; i < page.length; i++) {
        const loading = this.fold(page[i], byIndex);
        if (loading !== undefined) await loading;
        if (++pending >= this.catchUpBatch) {
          await this.flush();
          done += pending;
          pending = 0;
          onProgress?.(this.pos, done);
        } else if (pending % PROGRESS_EVERY === 0) onProgress?.(this.batchEnd, done + pending);
      }
    if (pending > 0) {
      await this.flush();
      onProgress?.(this.pos, done + pending);
    }
    return this.pos;
  }

  /** Follows the store live from the checkpoint (a catch-up subscription), until stop(). */
  async start(): Promise<void> {
    await this.init();
    if (this.loop !== null) return;
    this.stopping = false;
    const sub = this.store.subscribeToAll({ fromPosition: this.pos, streamPrefix: CUSTOMER_STREAM_PREFIX });
    this.subscription = sub;
    this.loop = this.follow(sub).catch((err: unknown) => {
      this.failure = err;
      this.wakeWaiters();
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.subscription?.close();
    await this.loop;
    this.loop = null;
    this.subscription = null;
  }

  /** The error that stopped the live loop, if any (readiness reports it). */
  get error(): unknown {
    return this.failure;
  }

  /**
   * Resolves true once every customer event up to `position` is projected (read-your-writes), false after
   * `timeoutMs`.
   */
  async waitFor(position: Position, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.pos >= position || this.covered >= position) return true;
      // Non-customer events (the period registry) have positions too: done when the store has reached the
      // position and none of our events is pending up to it.
      if (this.idle && position <= (await this.store.headPosition()) && !(await this.pendingUpTo(position))) {
        if (position > this.covered) this.covered = position;
        return true;
      }
      if (this.failure !== null) throw this.failure instanceof Error ? this.failure : new Error(String(this.failure));
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.min(left, 50));
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  private async pendingUpTo(position: Position): Promise<boolean> {
    for await (const e of this.store.readAll({ fromPosition: this.pos, maxCount: 1, streamPrefix: CUSTOMER_STREAM_PREFIX })) return e.position <= position;
    return false;
  }

  private wakeWaiters(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  private async follow(sub: Subscription): Promise<void> {
    const it = sub[Symbol.asyncIterator]();
    let next = it.next();
    const ready = () => new Promise<typeof SENTINEL>((resolve) => setImmediate(() => resolve(SENTINEL)));
    while (!this.stopping) {
      this.idle = true;
      this.wakeWaiters();
      let r = await next;
      this.idle = false;
      if (r.done) return;
      const batch: StoredEvent[] = [];
      for (;;) {
        batch.push(r.value);
        next = it.next();
        if (batch.length >= this.maxBatch) break;
        const got = await Promise.race([next, ready()]);
        if (got === SENTINEL) break;
        r = got;
        if (r.done) break;
      }
      await this.apply(batch);
      if (r.done) return;
    }
  }

  /** Folds a batch and commits every view's writes with its checkpoint. */
  async apply(events: readonly ReplayedEvent[]): Promise<void> {
    await this.init();
    for (const e of events) {
      const loading = this.fold(e);
      if (loading !== undefined) await loading;
    }
    await this.flush();
  }

  /**
   * Folds one event into its customer and the event handlers; returns a promise only when a customer must be
   * loaded first. `byIndex`: customers by `streamIndex`, for events that have one.
   */
  private fold(e: ReplayedEvent, byIndex?: Customer[]): Promise<void> | undefined {
    if (e.position <= this.batchEnd) return undefined;
    const n = byIndex === undefined ? undefined : e.streamIndex;
    let c = n === undefined ? undefined : (byIndex as Customer[])[n];
    if (c === undefined) {
      c = this.customers.get(e.streamId);
      if (c === undefined) {
        if (this.from !== 0n) return this.loadCustomer(e.streamId).then((loaded) => this.foldInto(this.touch(loaded), e));
        c = this.newCustomer(e.streamId);
      }
      if (n !== undefined) (byIndex as Customer[])[n] = c;
    }
    return this.foldInto(this.touch(c), e);
  }

  private touch(c: Customer): Customer {
    if (c.batch !== this.batchNo) {
      c.batch = this.batchNo;
      c.before = c.view;
      this.touched.push(c);
    }
    return c;
  }

  private foldInto(t: Customer, e: ReplayedEvent): undefined {
    this.batchEnd = e.position;
    t.last = e.position;
    t.builder.apply(e);
    const all = e.position > this.eventViewsFrom;
    for (const v of this.eventViews)
      if (all || e.position > v.startedAt) {
        v.sink.position = e.position;
        v.view.onEvent!(e, t.builder, v.sink);
      }
    return undefined;
  }

  /** Makes the documents of every customer touched since the last flush and commits every view. */
  private async flush(): Promise<void> {
    const touched = this.touched;
    const batchEnd = this.batchEnd;
    this.touched = [];
    this.batchNo++;
    if (batchEnd === this.pos) return;
    const stored = await this.storedOfColdCustomers(touched);
    for (const t of touched) {
      const after = t.builder.view();
      t.view = after;
      const customerId = t.customerId;
      for (const v of this.views)
        if (v.view.onCustomer !== undefined && t.last > v.startedAt) {
          v.sink.position = t.last;
          v.view.onCustomer({ customerId, before: t.before, after, stored: t.before === null ? stored.get(v)?.get(customerId) : undefined }, v.sink);
        }
      t.before = null;
    }
    const stamp = batchEnd.toString();
    const commits: Promise<void>[] = [];
    for (const v of this.views) {
      const writes: DocWrite[] = v.writes;
      v.writes = [];
      for (const c of v.counters.values())
        if (c.dirty) {
          c.dirty = false;
          c.doc[POSITION_FIELD] = stamp;
          writes.push({ put: { ...c.doc } });
        }
      const batch: CollectionWrites[] = writes.length === 0 ? [] : [{ collection: v.collection, writes }];
      commits.push(this.readModel.commit(v.collection, batch, batchEnd));
    }
    // Every view has its own documents and checkpoint: the commits go out together (a server works on one
    // view's while the next one's arrive). All of them must succeed before the position moves on.
    await settleAll(commits);
    this.pos = batchEnd;
    this.options.onBatch?.(batchEnd, touched.length);
    const effects = this.effects;
    this.effects = [];
    const after = this.effectsAfter;
    if (this.options.onEffect !== undefined && after !== null) for (const ef of effects) if (ef.position > after) this.options.onEffect(ef);
    this.wakeWaiters();
  }

  /** Per-customer views: what the collection already holds for customers this projector meets for the first time. */
  private async storedOfColdCustomers(touched: readonly Customer[]): Promise<Map<ViewState, Map<string, Doc[]>>> {
    const out = new Map<ViewState, Map<string, Doc[]>>();
    const cold = touched.filter((t) => t.before === null).map((t) => t.customerId);
    if (cold.length === 0) return out;
    for (const v of this.views) {
      if (!v.hadDocs) continue;
      const byCustomer = new Map<string, Doc[]>();
      for (let i = 0; i < cold.length; i += 1000)
        for (const d of await this.readModel.find(v.collection, { customerId: { $in: cold.slice(i, i + 1000) } })) {
          const id = d.customerId as string;
          const list = byCustomer.get(id);
          if (list === undefined) byCustomer.set(id, [d]);
          else list.push(d);
        }
      out.set(v, byCustomer);
    }
    return out;
  }

  private makeSink(v: ViewState): ViewSink {
    const sink: ViewSink = {
      position: 0n,
      put: (doc) => {
        doc[POSITION_FIELD] = sink.position.toString();
        v.writes.push({ put: handOver(doc) });
      },
      delete: (id) => v.writes.push({ delete: id }),
      counter: (id, init) => {
        let c = v.counters.get(id);
        if (c === undefined) v.counters.set(id, (c = { doc: init(), loadedAt: 0n, dirty: false }));
        if (c.loadedAt >= sink.position) return null;
        c.dirty = true;
        return c.doc;
      },
      effect: (kind, payload) => this.effects.push({ view: v.view.name, kind, payload, position: sink.position }),
    };
    return sink;
  }

  /**
   * A customer met for the first time by this projector: the events before the position it started from
   * were never delivered, so fold them from the customer's stream (none when starting from scratch).
   */
  private newCustomer(streamId: string): Customer {
    const customerId = streamId.slice(CUSTOMER_STREAM_PREFIX.length);
    const c: Customer = { customerId, builder: new CustomerViewBuilder(customerId), view: null, batch: 0, before: null, last: 0n };
    this.customers.set(streamId, c);
    return c;
  }

  private async loadCustomer(streamId: string): Promise<Customer> {
    const c = this.newCustomer(streamId);
    if (this.from > 0n) {
      for await (const e of this.store.readStream(customerStream(c.customerId))) {
        if (e.position > this.from) break;
        c.builder.apply(e);
      }
      if (c.builder.position >= 0n) c.view = c.builder.view();
    }
    return c;
  }
}
