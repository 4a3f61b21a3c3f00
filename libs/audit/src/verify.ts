import { ChainBreak, CUSTOMER_STREAM_PREFIX, EventStore, Position, streamEvents, verifyChain } from '@crm/event-store';
import { PolicyRegistry } from '@crm/ingest';
import { ALL_VIEWS, POSITION_FIELD, ReadSide, type ViewProjection } from '@crm/projections';
import { Doc, MemoryReadModelStore, ReadModelStore } from '@crm/read-model';
import { diffValues } from './diff';
import { ClosedMonths, Difference, rederiveStream } from './rederive';

/** At most this many differences of each kind are kept in a report (the counts are exact). */
export const MAX_REPORTED = 1000;

export interface HistoryVerification {
  streams: number;
  customers: number;
  events: number;
  chainBreaks: number;
  derivedDifferences: number;
  /** The first MAX_REPORTED of each. */
  chain: ChainBreak[];
  derived: Difference[];
  ms: number;
  eventsPerSecond: number;
}

export interface ProjectionDifference {
  view: string;
  documentId: string;
  field: string;
  /** In a fresh rebuild. */
  expected: unknown;
  /** In the live view. */
  found: unknown;
}

export interface ProjectionVerification {
  position: string;
  documents: number;
  differences: number;
  /** The first MAX_REPORTED. */
  items: ProjectionDifference[];
}

/**
 * Verify (a): every stream's hash chain, events in no stream (a store that can tell), and every customer stream
 * re-derived from its recorded facts under the policy versions in force when each command was recorded, compared
 * with the derived events recorded.
 */
export async function verifyHistory(
  store: EventStore,
  policies: PolicyRegistry,
  onProgress?: (events: number, streams: number) => void,
): Promise<HistoryVerification> {
  const started = Date.now();
  const closed = await ClosedMonths.read(store);
  const r: HistoryVerification = { streams: 0, customers: 0, events: 0, chainBreaks: 0, derivedDifferences: 0, chain: [], derived: [], ms: 0, eventsPerSecond: 0 };
  const timeline = await policies.timeline();
  for await (const streamId of store.listStreams('')) {
    const events = await streamEvents(store, streamId);
    r.streams++;
    r.events += events.length;
    const breaks = verifyChain(events);
    r.chainBreaks += breaks.length;
    for (const b of breaks) if (r.chain.length < MAX_REPORTED) r.chain.push(b);
    if (streamId.startsWith(CUSTOMER_STREAM_PREFIX)) {
      r.customers++;
      const diffs = rederiveStream(streamId.slice(CUSTOMER_STREAM_PREFIX.length), events, closed, timeline.deciderAt);
      r.derivedDifferences += diffs.length;
      for (const d of diffs) if (r.derived.length < MAX_REPORTED) r.derived.push(d);
    }
    if (onProgress && r.streams % 500 === 0) onProgress(r.events, r.streams);
  }
  // Rows written behind the store into no stream: the chain of no stream covers them, yet readAll feeds them to every view.
  if (store.eventsOutsideStreams) {
    for await (const e of store.eventsOutsideStreams()) {
      r.chainBreaks++;
      if (r.chain.length < MAX_REPORTED) {
        r.chain.push({ kind: 'OUTSIDE_STREAM', streamId: e.streamId, revision: e.revision, eventId: e.id, position: String(e.position), expected: 'an event of its stream', found: 'in no stream' });
      }
    }
  }
  onProgress?.(r.events, r.streams);
  r.ms = Date.now() - started;
  r.eventsPerSecond = r.ms === 0 ? r.events : Math.round((r.events * 1000) / r.ms);
  return r;
}

/** What verify (b) needs of the live read side. */
export interface LiveViews {
  readonly readModel: ReadModelStore;
  collection(view: string): string;
  waitFor(position: Position, timeoutMs: number): Promise<boolean>;
}

/** Documents by id, without the position stamp: replay bookkeeping that depends on where batches ended, not content. */
const byId = (docs: readonly Doc[]): Map<string, Doc> =>
  new Map(
    docs.map((d) => {
      const { [POSITION_FIELD]: _position, ...content } = d;
      return [String(d._id), content as Doc];
    }),
  );

/**
 * Verify (b): rebuilds every view from position 0 into a scratch in-memory store and compares it, document by
 * document and field by field, with the live views once they have reached the same position.
 */
export async function verifyProjections(store: EventStore, live: LiveViews, views: readonly ViewProjection[] = ALL_VIEWS, waitMs = 30_000): Promise<ProjectionVerification> {
  const scratch = await ReadSide.open(store, new MemoryReadModelStore(), { live: false, views });
  try {
    let position: Position = await scratch.catchUp();
    // Live views answer up to where they are: let them reach the scratch position, then catch the scratch up to theirs.
    for (let i = 0; i < 3; i++) {
      if (!(await live.waitFor(position, waitMs))) throw new Error(`the live views did not reach position ${position} within ${waitMs} ms`);
      const again = await scratch.catchUp();
      if (again === position) break;
      position = again;
    }
    const out: ProjectionVerification = { position: String(position), documents: 0, differences: 0, items: [] };
    for (const v of views) {
      const expected = byId(await scratch.readModel.find(scratch.collection(v.name), {}));
      const found = byId(await live.readModel.find(live.collection(v.name), {}));
      out.documents += expected.size;
      for (const id of new Set([...expected.keys(), ...found.keys()])) {
        const e = expected.get(id);
        const f = found.get(id);
        const diffs = e === undefined || f === undefined ? [{ field: 'document', expected: e === undefined ? '(none)' : 'present', found: f === undefined ? '(missing)' : 'present' }] : diffValues(e, f);
        out.differences += diffs.length;
        for (const d of diffs) if (out.items.length < MAX_REPORTED) out.items.push({ view: v.name, documentId: id, ...d });
      }
    }
    return out;
  } finally {
    await scratch.close();
  }
}
