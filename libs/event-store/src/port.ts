import type { EventMetadata } from '@crm/contracts';
import type { DerivedEventId } from './derived-id';

/** A global, ever-increasing position in the store (SQLite sequence; EventStoreDB commit position). */
export type Position = bigint;
export const START: Position = 0n;

/** -1 = the stream must not exist yet; 'any' = no check (not used by the write side). */
export type ExpectedRevision = number | 'any';
export const NO_STREAM = -1;

export interface NewEvent {
  /**
   * Deterministic id: the upstream eventId for a fact; for a derived event its cause and index, of which the store
   * makes the UUID v5 (`eventIdOf`; a derived id may also come as that UUID).
   */
  id: string | DerivedEventId;
  type: string;
  data: unknown;
  metadata: EventMetadata;
}

export interface StoredEvent extends Omit<NewEvent, 'id'> {
  id: string;
  streamId: string;
  /** 0-based index within the stream. */
  revision: number;
  position: Position;
}

/**
 * What a replay into projections reads of a recorded event (a StoredEvent is one): no id, and of the
 * metadata only `occurredAt`, so a store can skip parsing the rest (see EventStore.readAllPages).
 */
export interface ReplayedEvent {
  streamId: string;
  revision: number;
  position: Position;
  type: string;
  data: unknown;
  metadata: Pick<EventMetadata, 'occurredAt'>;
  /**
   * When the adapter has it: the stream's number within this one replay (0, 1, … in order of first appearance),
   * so that a consumer can keep per-stream state in an array rather than look the id up per event.
   */
  streamIndex?: number;
}

export interface AppendRequest {
  streamId: string;
  events: NewEvent[];
  expectedRevision: ExpectedRevision;
  /**
   * The AppendResult.streamKey of an earlier append to this stream through the same store, if it gave one: it spares
   * the store a lookup by name. A key the store no longer knows, or another stream's, is ignored.
   */
  streamKey?: number;
}

export interface AppendResult {
  streamId: string;
  /** Revision of the last event now in the stream. */
  nextExpectedRevision: number;
  /** Position of the last appended event. */
  position: Position;
  /** A number the store may give the stream, to be passed back as AppendRequest.streamKey (SQLite's append thread). */
  streamKey?: number;
}

export class WrongExpectedVersionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: number,
  ) {
    super(`stream ${streamId}: expected revision ${String(expected)}, found ${actual}`);
    this.name = 'WrongExpectedVersionError';
  }
}

export interface ReadAllOptions {
  /** Exclusive: events with position > fromPosition. */
  fromPosition?: Position;
  maxCount?: number;
  /** Only streams whose id starts with this prefix (e.g. 'customer-'). */
  streamPrefix?: string;
}

export interface Subscription extends AsyncIterable<StoredEvent> {
  /** Stop the subscription; the iterator ends. */
  close(): Promise<void>;
}

/**
 * The event-store port. Every adapter passes test/contract/event-store.contract.ts.
 * - Appends are atomic per stream and checked against the expected revision.
 * - `appendMany` appends to several streams; the embedded adapter does it in one transaction,
 *   others may do it stream by stream. On a conflict it throws WrongExpectedVersionError and,
 *   for the embedded adapter, appends nothing.
 * - Reading everything yields events in position order; positions only grow.
 * - A subscription catches up from a position and then follows new appends live.
 */
export interface EventStore {
  append(streamId: string, events: NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult>;
  appendMany(requests: AppendRequest[]): Promise<AppendResult[]>;
  /** Current revision of a stream, -1 if it does not exist. */
  streamRevision(streamId: string): Promise<number>;
  readStream(streamId: string, options?: { fromRevision?: number; maxCount?: number }): AsyncIterable<StoredEvent>;
  readAll(options?: ReadAllOptions): AsyncIterable<StoredEvent>;
  /**
   * Optional: the events of `readAll`, in pages, as ReplayedEvents (for replays of the whole store; an adapter
   * without it is read through `readAll`: see replayPages).
   */
  readAllPages?(options?: ReadAllOptions): AsyncIterable<readonly ReplayedEvent[]>;
  subscribeToAll(options?: { fromPosition?: Position; streamPrefix?: string }): Subscription;
  /** Which of these event ids are already recorded (idempotency by upstream eventId). */
  existingEventIds(ids: readonly string[]): Promise<Set<string>>;
  /**
   * Optional: true when `existingEventIds` also reports the ids of appends this store has been given but not yet
   * finished. Callers that keep several appends in flight then need not track those ids themselves.
   */
  readonly reportsPendingEventIds?: boolean;
  /**
   * Optional: true when an append whose event id is already recorded (by anyone, in any stream) fails with
   * DuplicateEventIdError and writes nothing. A caller that screened its ids with `existingEventIds` can then
   * rely on that check even if another writer records one of them before its append.
   */
  readonly refusesDuplicateEventIds?: boolean;
  /**
   * Optional, for a store in a file that other programs could write (SQLite): the events no stream reaches, i.e.
   * written behind the store. `readAll` delivers them, `readStream` never does; verify reports them.
   */
  eventsOutsideStreams?(): AsyncIterable<StoredEvent>;
  /** Ids of the streams whose id starts with `prefix`, in id order. */
  listStreams(prefix: string): AsyncIterable<string>;
  /** Position of the last event in the store, START if empty. */
  headPosition(): Promise<Position>;
  close(): Promise<void>;
}

export const customerStream = (customerId: string): string => `customer-${customerId}`;

/** A whole stream in memory, in revision order (for the checks that need all of it at once). */
export async function streamEvents(store: EventStore, streamId: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const e of store.readStream(streamId)) events.push(e);
  return events;
}

/** Events per page when replayPages pages `readAll` itself. */
const REPLAY_PAGE = 1000;

/** Pages of the events `readAll(options)` yields: the store's own `readAllPages`, else `readAll` in pages. */
export async function* replayPages(store: EventStore, options: ReadAllOptions = {}): AsyncGenerator<readonly ReplayedEvent[]> {
  if (store.readAllPages !== undefined) {
    yield* store.readAllPages(options);
    return;
  }
  let page: StoredEvent[] = [];
  for await (const e of store.readAll(options)) {
    page.push(e);
    if (page.length === REPLAY_PAGE) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

export const CUSTOMER_STREAM_PREFIX = 'customer-';
