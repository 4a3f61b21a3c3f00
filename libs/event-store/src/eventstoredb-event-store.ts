import {
  ANY,
  BACKWARDS,
  END,
  ErrorType,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM as ESDB_NO_STREAM,
  START as ESDB_START,
  StreamNotFoundError,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type AppendExpectedRevision,
  type EventData,
  type JSONType,
  type ReadPosition,
  type RecordedEvent,
  type ResolvedEvent,
  type StreamingRead,
} from '@eventstore/db-client';
import type { EventMetadata } from '@crm/contracts';
import { chainCrypto, chainHash } from './hash-chain';
import { eventIdOf } from './derived-id';
import {
  NO_STREAM,
  START,
  WrongExpectedVersionError,
  type AppendRequest,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type Position,
  type ReadAllOptions,
  type StoredEvent,
  type Subscription,
} from './port';

/** A position the server did not report (stream reads on servers before 22.6 carry none, or 2^64-1). */
const UNKNOWN_POSITION = -1n;
const MAX_REPORTED_POSITION = (1n << 63n) - 1n;

/**
 * EventStore port on EventStoreDB (`@eventstore/db-client` 6.x, gRPC; EventStoreDB 22.10 or later, or
 * KurrentDB). A thin adapter: every call maps onto one client call; nothing is cached except the id
 * index described below.
 *
 * Streams: named by the caller (`customer-<id>`); events are JSON events with the caller's ids
 * (deterministic: the upstream eventId, or a UUID v5 for derived events) and the EventMetadata as JSON
 * metadata. Every append carries an explicit expected revision (`NO_STREAM` for -1, `BigInt(n)` for n,
 * `ANY` only for the port's `'any'`), so re-appending the same ids at the same revision is an idempotent
 * no-op on the server. A server WrongExpectedVersionError becomes the port's WrongExpectedVersionError.
 * `appendMany` appends stream by stream, in request order (not atomic: a conflict on a later stream
 * leaves the earlier ones written; the write side re-decides, and its facts are idempotent by eventId).
 *
 * Positions: the port's bigint `Position` is the event's **commit position** in the transaction log.
 * Every gRPC append is an implicit transaction whose events each get their own commit position
 * (commit == prepare == the event's log position), so commit positions are unique per event and grow in
 * $all order. (Legacy explicit TCP transactions, which this adapter never writes, give several events
 * one commit position.) Mapped back, a port position `p` is the server position `{commit: p, prepare: p}`;
 * `START` (0n) is the server's `START`. Forward reads of $all include the event at the given position,
 * so readAll drops events with commit ≤ p to make `fromPosition` exclusive as the port requires;
 * catch-up subscriptions start after the position and are filtered the same way for safety.
 *
 * What the $all-based operations see: user events only. Events of system streams (`$…`, including the
 * `$$…` metadata streams) and system event types (`$…`, e.g. link events `$>`) are skipped by readAll,
 * subscribeToAll, headPosition and the id index.
 *
 * existingEventIds: EventStoreDB cannot look events up by id (and does not reject a duplicate id on another
 * stream, hence the contract's `rejectsDuplicateEventIds: false`). The adapter keeps an in-memory index,
 * like the SQLite adapter: every event id and stream id of $all (user events) plus the commit position it has
 * read through. The first call reads $all once from the start (about 75–100 MB of heap per million ids);
 * every call first catches up from that position (one $all read of what was appended since, by anyone),
 * so ids appended by other processes are seen. Ids are compared case-insensitively (the server returns
 * UUIDs in lower case). A production alternative at very large scale is a server-side index (a projection
 * emitting `eventid-<id>` streams); the port hides the choice.
 *
 * listStreams: served from the same index (stream ids of every user event), filtered by prefix and sorted.
 * The `$streams` system projection would also list them, but it only exists when system projections run
 * (`--run-projections=System`), which is not the server default; the $all scan needs nothing.
 *
 * readAll with `streamPrefix` filters on the client (`readAll` in client 6.x takes no server-side filter);
 * subscribeToAll uses the server-side `streamNameFilter({ prefixes: [prefix] })` (else
 * `excludeSystemEvents()`) and is consumed with `for await` (never `on('data')`, which would not wait).
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly subscriptions = new Set<EsdbSubscription>();
  private closed = false;
  /** Lower-cased event ids and stream ids of every user event through `indexedThrough`. */
  private index: { ids: Set<string>; streams: Set<string>; through: Position } | undefined;
  /** Catch-ups of the index run one after the other. */
  private indexing: Promise<unknown> = Promise.resolve();

  /** Connects with a connection string, e.g. `esdb://localhost:2113?tls=false`. */
  static connect(connectionString: string): EventStoreDbEventStore {
    return new EventStoreDbEventStore(EventStoreDBClient.connectionString(connectionString));
  }

  /** Takes ownership of `client` (disposed by `close()`). */
  constructor(private readonly client: EventStoreDBClient) {}

  async append(streamId: string, events: NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    this.assertOpen();
    if (typeof streamId !== 'string' || streamId.length === 0) throw new TypeError('streamId must be a non-empty string');
    const expected = toServerExpected(expectedRevision);
    try {
      const chained = await this.chained(streamId, events, expectedRevision);
      const result = await this.client.appendToStream(streamId, chained.map(toEventData), { expectedRevision: expected });
      // No position when the server recognised an idempotent re-append (nothing written): read the stream's last event.
      const position = result.position ? result.position.commit : await this.lastPositionOf(streamId);
      return { streamId, nextExpectedRevision: Number(result.nextExpectedRevision), position };
    } catch (err) {
      if (err instanceof EsdbWrongExpectedVersionError || (err as { type?: unknown }).type === ErrorType.WRONG_EXPECTED_VERSION) {
        const actual = (err as EsdbWrongExpectedVersionError).actualVersion;
        throw new WrongExpectedVersionError(streamId, expectedRevision, typeof actual === 'bigint' ? Number(actual) : -1);
      }
      throw err;
    }
  }

  async appendMany(requests: AppendRequest[]): Promise<AppendResult[]> {
    const results: AppendResult[] = [];
    for (const r of requests) results.push(await this.append(r.streamId, r.events, r.expectedRevision));
    return results;
  }

  async streamRevision(streamId: string): Promise<number> {
    const last = await this.lastEventOf(streamId);
    return last === undefined ? -1 : Number(last.revision);
  }

  async *readStream(streamId: string, options: { fromRevision?: number; maxCount?: number } = {}): AsyncIterable<StoredEvent> {
    this.assertOpen();
    if (options.maxCount !== undefined && options.maxCount <= 0) return;
    const read = this.client.readStream(streamId, {
      direction: FORWARDS,
      fromRevision: options.fromRevision !== undefined && options.fromRevision > 0 ? BigInt(options.fromRevision) : ESDB_START,
      ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
    });
    yield* this.drain(read, (r) => (r.event ? toStored(r.event, r.commitPosition) : undefined), true);
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<StoredEvent> {
    this.assertOpen();
    const from = options.fromPosition ?? START;
    const prefix = options.streamPrefix ?? '';
    const max = options.maxCount ?? Number.POSITIVE_INFINITY;
    if (max <= 0) return;
    const read = this.client.readAll({ direction: FORWARDS, fromPosition: toServerPosition(from) });
    let yielded = 0;
    for await (const e of this.drain(read, (r) => userEvent(r, from, prefix), false)) {
      yield e;
      if (++yielded >= max) break; // drain's finally cancels the read
    }
  }

  subscribeToAll(options: { fromPosition?: Position; streamPrefix?: string } = {}): Subscription {
    this.assertOpen();
    const from = options.fromPosition ?? START;
    const prefix = options.streamPrefix ?? '';
    const sub = this.client.subscribeToAll({
      fromPosition: toServerPosition(from),
      filter: prefix ? streamNameFilter({ prefixes: [prefix] }) : excludeSystemEvents(),
    });
    const subscription = new EsdbSubscription(sub, from, prefix, () => this.subscriptions.delete(subscription));
    this.subscriptions.add(subscription);
    return subscription;
  }

  async existingEventIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const index = await this.catchUpIndex();
    return new Set(ids.filter((id) => index.ids.has(id.toLowerCase())));
  }

  async *listStreams(prefix: string): AsyncIterable<string> {
    const index = await this.catchUpIndex();
    const matching: string[] = [];
    for (const s of index.streams) if (s.startsWith(prefix)) matching.push(s);
    matching.sort();
    yield* matching;
  }

  async headPosition(): Promise<Position> {
    this.assertOpen();
    const read = this.client.readAll({ direction: BACKWARDS, fromPosition: END });
    for await (const e of this.drain(read, (r) => userEvent(r, -1n, ''), false)) return e.position;
    return START;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.client.dispose();
  }

  /** Iterates a client read, mapping (undefined = skip), and cancels the gRPC call if the consumer stops early. */
  private async *drain<R>(
    read: StreamingRead<R>,
    map: (r: R) => StoredEvent | undefined,
    missingStreamIsEmpty: boolean,
  ): AsyncGenerator<StoredEvent> {
    let ended = false;
    try {
      for await (const r of read) {
        const e = map(r);
        if (e !== undefined) yield e;
      }
      ended = true;
    } catch (err) {
      if (missingStreamIsEmpty && isStreamNotFound(err)) {
        ended = true;
        return;
      }
      throw err;
    } finally {
      if (!ended) {
        // Leaving a for-await destroys the readable, but the gRPC call underneath keeps going until cancelled.
        await read.cancel().catch(() => undefined);
        read.destroy();
      }
    }
  }

  /** The events with their hash chain (see hash-chain.ts) continued from the stream's last event. */
  private async chained(streamId: string, events: NewEvent[], expectedRevision: ExpectedRevision): Promise<(NewEvent & { id: string })[]> {
    let previous = '';
    let revision = -1;
    if (expectedRevision !== NO_STREAM && events.length > 0) {
      const last = await this.lastEventOf(streamId);
      if (last) {
        previous = (parseJson(last.metadata) as EventMetadata).hash ?? '';
        revision = Number(last.revision);
      }
    }
    return events.map((e) => {
      const { hash: _h, ...metadata } = e.metadata;
      const id = eventIdOf(e.id);
      previous = chainHash(chainCrypto, previous, streamId, ++revision, id, e.type, JSON.stringify(e.data) ?? 'null', JSON.stringify(metadata));
      return { ...e, id, metadata: { ...metadata, hash: previous } };
    });
  }

  private async lastEventOf(streamId: string): Promise<RecordedEvent | undefined> {
    this.assertOpen();
    const read = this.client.readStream(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: 1 });
    let last: RecordedEvent | undefined;
    try {
      for await (const r of read as StreamingRead<ResolvedEvent>) last ??= r.event;
    } catch (err) {
      if (!isStreamNotFound(err)) throw err;
    }
    return last;
  }

  private async lastPositionOf(streamId: string): Promise<Position> {
    const last = await this.lastEventOf(streamId);
    return last ? reportedPosition(last.position?.commit) : UNKNOWN_POSITION;
  }

  /** Reads $all from where the index stopped (everything the first time); one catch-up at a time. */
  private catchUpIndex(): Promise<NonNullable<EventStoreDbEventStore['index']>> {
    this.assertOpen();
    const run = this.indexing.then(async () => {
      const index = (this.index ??= { ids: new Set(), streams: new Set(), through: START });
      const read = this.client.readAll({ direction: FORWARDS, fromPosition: toServerPosition(index.through) });
      for await (const e of this.drain(read, (r) => userEvent(r, index.through, ''), false)) {
        index.ids.add(e.id.toLowerCase());
        index.streams.add(e.streamId);
        index.through = e.position;
      }
      return index;
    });
    this.indexing = run.catch(() => undefined);
    return run;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('EventStoreDbEventStore is closed');
  }
}

/**
 * The port's Subscription over a catch-up subscription to $all. `close()` cancels the gRPC call and ends a
 * pending `next()` at once (cancelling alone never ends the client's readable, so `next()` races a close signal).
 */
class EsdbSubscription implements Subscription {
  private closed = false;
  private signalClose!: () => void;
  private readonly closedSignal = new Promise<typeof CLOSED>((resolve) => (this.signalClose = () => resolve(CLOSED)));
  private readonly events: AsyncGenerator<StoredEvent>;

  constructor(
    private readonly sub: AllStreamSubscription,
    from: Position,
    prefix: string,
    private readonly onClose: () => void,
  ) {
    this.events = (async function* () {
      for await (const r of sub) {
        const e = userEvent(r, from, prefix);
        if (e !== undefined) yield e;
      }
    })();
  }

  [Symbol.asyncIterator](): AsyncIterator<StoredEvent> {
    return {
      next: async (): Promise<IteratorResult<StoredEvent>> => {
        if (this.closed) return DONE;
        const pending = this.events.next();
        pending.catch(() => undefined); // after close() it may reject (stream destroyed): nobody waits for it then
        const r = await Promise.race([pending, this.closedSignal]);
        if (r === CLOSED || this.closed) return DONE;
        if (r.done) {
          await this.close();
          return DONE;
        }
        return r;
      },
      return: async (): Promise<IteratorResult<StoredEvent>> => {
        await this.close();
        return DONE;
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signalClose();
    this.onClose();
    await this.sub.unsubscribe().catch(() => undefined);
    this.sub.destroy();
  }
}

const CLOSED = Symbol('closed');
const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

function toServerExpected(expected: ExpectedRevision): AppendExpectedRevision {
  if (expected === 'any') return ANY;
  if (!Number.isInteger(expected) || expected < NO_STREAM) throw new TypeError(`invalid expected revision ${String(expected)}`);
  return expected === NO_STREAM ? ESDB_NO_STREAM : BigInt(expected);
}

function toServerPosition(position: Position): ReadPosition {
  return position > START ? { commit: position, prepare: position } : ESDB_START;
}

function toEventData(e: NewEvent & { id: string }): EventData {
  return jsonEvent({ id: e.id, type: e.type, data: e.data as JSONType, metadata: e.metadata });
}

function reportedPosition(commit: bigint | undefined): Position {
  return commit === undefined || commit > MAX_REPORTED_POSITION ? UNKNOWN_POSITION : commit;
}

function parseJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return JSON.parse(Buffer.from(value).toString('utf8')) as unknown;
  return value;
}

function toStored(e: RecordedEvent, commitPosition?: bigint): StoredEvent {
  return {
    id: e.id,
    type: e.type,
    data: parseJson(e.data),
    metadata: parseJson(e.metadata) as EventMetadata,
    streamId: e.streamId,
    revision: Number(e.revision),
    position: reportedPosition(e.position?.commit ?? commitPosition),
  };
}

/** A user event of $all after `from` (exclusive) in a stream starting with `prefix`, else undefined. */
function userEvent(r: AllStreamResolvedEvent, from: Position, prefix: string): StoredEvent | undefined {
  const e = r.event;
  if (!e || e.streamId.startsWith('$') || e.type.startsWith('$')) return undefined;
  if (e.position.commit <= from || !e.streamId.startsWith(prefix)) return undefined;
  return toStored(e, r.commitPosition);
}

function isStreamNotFound(err: unknown): boolean {
  return err instanceof StreamNotFoundError || (err as { type?: unknown } | null)?.type === ErrorType.STREAM_NOT_FOUND;
}
