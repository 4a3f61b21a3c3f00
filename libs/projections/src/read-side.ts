import type { EventStore, Position } from '@crm/event-store';
import type { ReadModelStore } from '@crm/read-model';
import { Projector, type ProjectionEffect } from './projector';
import type { ViewProjection } from './projection';
import { ALL_VIEWS } from './views';

/** Where each view's documents live: readers follow the catalog, rebuilds switch it when caught up. */
export const CATALOG = 'view_catalog';

export interface CatalogEntry {
  _id: string;
  collection: string;
  version: number;
  generation: number;
  builtAt: string;
  position: string;
}

export interface ReadSideOptions {
  views?: readonly ViewProjection[];
  /** Follow the store live (the API); false for one-shot use (the CLI). Default true. */
  live?: boolean;
  onEffect?: (effect: ProjectionEffect) => void;
  onProgress?: (phase: string, position: Position, events: number) => void;
  /** Wall clock for `builtAt` stamps only (never for business time). */
  now?: () => Date;
}

export interface RebuildReport {
  generation: number;
  events: number;
  position: string;
  ms: number;
  eventsPerSecond: number;
  collections: Record<string, string>;
}

const physical = (v: ViewProjection, generation: number): string => `${v.name}_v${v.version}_g${generation}`;

/**
 * The read side over one event store and one read-model store: the catalog of views, the live projector,
 * blue/green rebuilds and read-your-writes waits.
 */
export class ReadSide {
  private catalog = new Map<string, CatalogEntry>();
  private projector: Projector | null = null;
  private readonly views: readonly ViewProjection[];

  private constructor(
    readonly store: EventStore,
    readonly readModel: ReadModelStore,
    private readonly options: ReadSideOptions,
  ) {
    this.views = options.views ?? ALL_VIEWS;
  }

  /**
   * Opens the read side: views missing from the catalog, or at another version, are built from position 0
   * first (readers keep the old collection meanwhile), then the projector follows the store.
   */
  static async open(store: EventStore, readModel: ReadModelStore, options: ReadSideOptions = {}): Promise<ReadSide> {
    const rs = new ReadSide(store, readModel, options);
    await rs.loadCatalog();
    const stale = rs.views.filter((v) => rs.catalog.get(v.name)?.version !== v.version);
    if (stale.length > 0) await rs.build(stale, 'build');
    if (rs.projector === null) rs.projector = rs.newProjector(rs.views, (v) => rs.collection(v.name));
    rs.projector.fireEffectsAfter(await store.headPosition());
    if (options.live !== false) await rs.projector.start();
    else await rs.countedCatchUp(rs.projector, 'catch-up');
    return rs;
  }

  /** Physical collection a view is read from now. */
  collection(view: string): string {
    const e = this.catalog.get(view);
    if (e === undefined) throw new Error(`unknown view ${view}`);
    return e.collection;
  }

  entries(): CatalogEntry[] {
    return [...this.catalog.values()];
  }

  /** Position every view has committed. */
  get position(): Position {
    return this.projector?.position ?? 0n;
  }

  /** Position the views reflect (see Projector.readPosition): what reads report. */
  get readPosition(): Position {
    return this.projector?.readPosition ?? 0n;
  }

  get error(): unknown {
    return this.projector?.error ?? null;
  }

  /** Read-your-writes: true once everything up to `position` is projected, false after `timeoutMs`. */
  async waitFor(position: Position, timeoutMs: number): Promise<boolean> {
    if (this.projector === null) return false;
    return this.projector.waitFor(position, timeoutMs);
  }

  /** Applies everything recorded so far (the CLI and tests call this instead of waiting). */
  async catchUp(): Promise<Position> {
    if (this.projector === null) throw new Error('read side not open');
    return this.projector.catchUp();
  }

  /**
   * Rebuilds every view from position 0 into new collections while readers keep the current ones; then the
   * live projector stops, the new one catches up the last events, the catalog switches, the old
   * collections are dropped. Effects are not repeated.
   */
  async rebuild(): Promise<RebuildReport> {
    const started = Date.now();
    const report = await this.build(this.views, 'rebuild');
    report.ms = Date.now() - started;
    report.eventsPerSecond = report.ms === 0 ? report.events : Math.round((report.events * 1000) / report.ms);
    return report;
  }

  async close(): Promise<void> {
    await this.projector?.stop();
  }

  private async build(views: readonly ViewProjection[], phase: string): Promise<RebuildReport> {
    const started = Date.now();
    const generation = 1 + Math.max(0, ...views.map((v) => this.catalog.get(v.name)?.generation ?? 0));
    const target = new Map(views.map((v) => [v.name, physical(v, generation)]));
    for (const c of target.values()) {
      await this.readModel.drop(c);
      await this.readModel.resetCheckpoint(c);
    }
    const fresh = this.newProjector(views, (v) => target.get(v.name) as string);
    let events = await this.countedCatchUp(fresh, phase);
    // Switch: stop following into the old collections, let the new ones take the last events, repoint readers.
    const live = this.projector;
    const wasLive = live !== null && this.options.live !== false;
    await live?.stop();
    events += await this.countedCatchUp(fresh, phase);
    const old = views.map((v) => this.catalog.get(v.name)?.collection).filter((c): c is string => c !== undefined);
    const builtAt = (this.options.now?.() ?? new Date()).toISOString();
    const entries: CatalogEntry[] = views.map((v) => ({
      _id: v.name,
      collection: target.get(v.name) as string,
      version: v.version,
      generation,
      builtAt,
      position: fresh.position.toString(),
    }));
    await this.readModel.commit(CATALOG, [{ collection: CATALOG, writes: entries.map((put) => ({ put: { ...put } })) }], fresh.position);
    for (const e of entries) this.catalog.set(e._id, e);
    for (const c of old) if (![...target.values()].includes(c)) await this.readModel.drop(c);
    // The new projector holds every customer's fold already: it becomes the live one when it covers every view.
    if (views.length === this.views.length) {
      this.projector = fresh;
      if (wasLive) {
        fresh.fireEffectsAfter(await this.store.headPosition());
        await fresh.start();
      }
    } else if (wasLive) {
      this.projector = this.newProjector(this.views, (v) => this.collection(v.name));
      this.projector.fireEffectsAfter(await this.store.headPosition());
      await this.projector.start();
    }
    const ms = Date.now() - started;
    return {
      generation,
      events,
      position: fresh.position.toString(),
      ms,
      eventsPerSecond: ms === 0 ? events : Math.round((events * 1000) / ms),
      collections: Object.fromEntries(target),
    };
  }

  private async countedCatchUp(p: Projector, phase: string): Promise<number> {
    let n = 0;
    await p.catchUp((pos, done) => {
      n = done;
      this.options.onProgress?.(phase, pos, done);
    });
    return n;
  }

  private newProjector(views: readonly ViewProjection[], collectionOf: (v: ViewProjection) => string): Projector {
    return new Projector(this.store, this.readModel, views, { collectionOf, onEffect: this.options.onEffect });
  }

  private async loadCatalog(): Promise<void> {
    this.catalog = new Map((await this.readModel.find(CATALOG)).map((d) => [d._id, d as unknown as CatalogEntry]));
  }
}
