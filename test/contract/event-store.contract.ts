/**
 * The EventStore port's contract, as a reusable jest suite. Every adapter runs it from an *.int-spec.ts
 * (or *.servers-spec.ts for a real server):
 *
 *   describeEventStoreContract('SqliteEventStore', { open: async () => SqliteEventStore.open(file), cleanup },
 *     { atomicBatches: true });
 *
 * Stream ids carry a random suffix per test, and reads are scoped by stream prefix and by the head
 * position before the test, so the suite also runs against a shared server that holds other data.
 */
import { randomUUID } from 'crypto';
import type { EventMetadata } from '@crm/contracts';
import {
  derivedEventId,
  NO_STREAM,
  verifyChain,
  WrongExpectedVersionError,
  type EventStore,
  type NewEvent,
  type Position,
  type StoredEvent,
} from '@crm/event-store';

export interface EventStoreContractFactory {
  /**
   * Opens the store under test. Called before every test and again inside the restart test after
   * `close()`: every call must open the SAME underlying store (same file, same server).
   */
  open(): Promise<EventStore>;
  /** Called once after all tests (delete the temp directory, drop the test database...). */
  cleanup?(): Promise<void>;
}

export interface EventStoreContractOptions {
  /** `appendMany` is one transaction: a conflict anywhere appends nothing of the batch (embedded adapter). */
  atomicBatches?: boolean;
  /** An event id already recorded is rejected, on any stream. Default true. */
  rejectsDuplicateEventIds?: boolean;
  /** How long to wait for an event a subscription should deliver. Default 5,000 ms. */
  deliveryTimeoutMs?: number;
  /** How long a subscription must stay quiet to show it delivered nothing more. Default 400 ms. */
  quietMs?: number;
}

const TIMEOUT = Symbol('timeout');

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<typeof TIMEOUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMEOUT), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function collect(events: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

function metadata(id: string): EventMetadata {
  const now = new Date().toISOString();
  return {
    upstreamEventId: id,
    correlationId: randomUUID(),
    causationId: id,
    occurredAt: '2025-03-01T08:30:00.000+08:00',
    recordedAt: now,
    schemaVersion: 1,
    source: 'contract-test',
  };
}

/** A NewEvent with its id as a string (as the upstream gives facts). */
type PlainIdEvent = NewEvent & { id: string };

function newEvent(n: number, type = 'ContractTested'): PlainIdEvent {
  const id = randomUUID();
  return {
    id,
    type,
    data: { n, text: `事件 ${n} "quoted" \\ 🚚`, nested: { list: [1, 2.5, null, true], empty: {} }, nothing: null },
    metadata: metadata(id),
  };
}

function newEvents(count: number, from = 0): PlainIdEvent[] {
  return Array.from({ length: count }, (_, i) => newEvent(from + i));
}

/** The parts of a stored event an adapter must give back exactly as appended (plus the hash it adds). */
function asAppended(e: StoredEvent): PlainIdEvent {
  const { hash: _hash, ...metadata } = e.metadata;
  return { id: e.id, type: e.type, data: e.data, metadata };
}

function expectIncreasing(positions: Position[]): void {
  for (let i = 1; i < positions.length; i++) expect(positions[i] > positions[i - 1]).toBe(true);
}

export function describeEventStoreContract(
  name: string,
  factory: EventStoreContractFactory,
  options: EventStoreContractOptions = {},
): void {
  const atomicBatches = options.atomicBatches ?? false;
  const rejectsDuplicates = options.rejectsDuplicateEventIds ?? true;
  const deliveryMs = options.deliveryTimeoutMs ?? 5000;
  const quietMs = options.quietMs ?? 400;

  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    /** Unique per test: `contract-<random>-`. */
    let prefix: string;
    const stream = (s: string): string => `${prefix}${s}`;

    beforeEach(async () => {
      prefix = `contract-${randomUUID().slice(0, 8)}-`;
      store = await factory.open();
    });
    afterEach(async () => {
      await store.close();
    });
    afterAll(async () => {
      await factory.cleanup?.();
    });

    const readOurs = async (from: Position, maxCount?: number): Promise<StoredEvent[]> =>
      collect(store.readAll({ fromPosition: from, streamPrefix: prefix, maxCount }));

    describe('append', () => {
      it('appends to a new stream with NO_STREAM and reads the events back unchanged', async () => {
        const events = newEvents(3);
        const result = await store.append(stream('a'), events, NO_STREAM);
        expect(result.streamId).toBe(stream('a'));
        expect(result.nextExpectedRevision).toBe(2);
        expect(typeof result.position).toBe('bigint');
        expect(result.position > 0n).toBe(true);
        expect(await store.streamRevision(stream('a'))).toBe(2);

        const read = await collect(store.readStream(stream('a')));
        expect(read.map(asAppended)).toEqual(events);
        expect(read.map((e) => e.revision)).toEqual([0, 1, 2]);
        expect(read.every((e) => e.streamId === stream('a'))).toBe(true);
        // Tamper evidence: every adapter chains each event's hash to its predecessor in the stream.
        await store.append(stream('a'), newEvents(2, 3), 2);
        const chained = await collect(store.readStream(stream('a')));
        expect(chained.every((e) => /^[0-9a-f]{64}$/.test(e.metadata.hash ?? ''))).toBe(true);
        expect(verifyChain(chained)).toEqual([]);
        expectIncreasing(read.map((e) => e.position));
        expect(read[2].position).toBe(result.position);
      });

      it('makes the UUID v5 of a derived id, and refuses it like any id once it is recorded', async () => {
        const cause = randomUUID();
        const derived = (index: number): NewEvent => ({ ...newEvent(index, 'ContractDerived'), id: { derivedFrom: cause, index } });
        await store.append(stream('a'), [newEvent(0), derived(0), derived(1)], NO_STREAM);
        const read = await collect(store.readStream(stream('a')));
        expect(read.slice(1).map((e) => e.id)).toEqual([derivedEventId(cause, 0), derivedEventId(cause, 1)]);
        expect(read[1].id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(verifyChain(read)).toEqual([]);
        if (rejectsDuplicates) {
          await expect(store.append(stream('b'), [derived(1)], NO_STREAM)).rejects.toMatchObject({ name: 'DuplicateEventIdError', eventIds: [derivedEventId(cause, 1)] });
          await expect(store.append(stream('b'), [{ ...newEvent(9), id: derivedEventId(cause, 0) }], NO_STREAM)).rejects.toMatchObject({ name: 'DuplicateEventIdError' });
          expect(await store.streamRevision(stream('b'))).toBe(-1);
        }
      });

      it('appends with the right expected revision', async () => {
        const first = await store.append(stream('a'), newEvents(2), NO_STREAM);
        const second = await store.append(stream('a'), newEvents(3, 2), first.nextExpectedRevision);
        expect(second.nextExpectedRevision).toBe(4);
        expect(second.position > first.position).toBe(true);
        const read = await collect(store.readStream(stream('a')));
        expect(read.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4]);
        expect(read.map((e) => (e.data as { n: number }).n)).toEqual([0, 1, 2, 3, 4]);
      });

      it('rejects a conflicting expected revision with WrongExpectedVersionError and appends nothing', async () => {
        await store.append(stream('a'), newEvents(2), NO_STREAM);

        const stale = store.append(stream('a'), newEvents(1), 0);
        await expect(stale).rejects.toBeInstanceOf(WrongExpectedVersionError);
        await expect(stale).rejects.toMatchObject({ streamId: stream('a'), expected: 0, actual: 1 });
        await expect(store.append(stream('a'), newEvents(1), NO_STREAM)).rejects.toBeInstanceOf(
          WrongExpectedVersionError,
        );
        await expect(store.append(stream('a'), newEvents(1), 5)).rejects.toBeInstanceOf(WrongExpectedVersionError);
        await expect(store.append(stream('new'), newEvents(1), 0)).rejects.toMatchObject({
          name: 'WrongExpectedVersionError',
          streamId: stream('new'),
          expected: 0,
          actual: -1,
        });

        expect(await store.streamRevision(stream('a'))).toBe(1);
        expect(await store.streamRevision(stream('new'))).toBe(-1);
        expect(await collect(store.readStream(stream('a')))).toHaveLength(2);
        expect(await collect(store.readStream(stream('new')))).toHaveLength(0);
      });

      it("skips the check with 'any'", async () => {
        await store.append(stream('a'), newEvents(1), 'any');
        const result = await store.append(stream('a'), newEvents(2, 1), 'any');
        expect(result.nextExpectedRevision).toBe(2);
        expect((await collect(store.readStream(stream('a')))).map((e) => e.revision)).toEqual([0, 1, 2]);
      });

      it('appendMany appends to several streams and reports each result in request order', async () => {
        await store.append(stream('b'), newEvents(1), NO_STREAM);
        const results = await store.appendMany([
          { streamId: stream('a'), events: newEvents(2), expectedRevision: NO_STREAM },
          { streamId: stream('b'), events: newEvents(3, 1), expectedRevision: 0 },
          { streamId: stream('c'), events: newEvents(1), expectedRevision: 'any' },
        ]);
        expect(results.map((r) => [r.streamId, r.nextExpectedRevision])).toEqual([
          [stream('a'), 1],
          [stream('b'), 3],
          [stream('c'), 0],
        ]);
        for (const r of results) {
          const read = await collect(store.readStream(r.streamId));
          expect(read[read.length - 1].position).toBe(r.position);
        }
      });

      it('appendMany rejects a conflict with WrongExpectedVersionError', async () => {
        await store.append(stream('b'), newEvents(1), NO_STREAM);
        await expect(
          store.appendMany([
            { streamId: stream('a'), events: newEvents(1), expectedRevision: NO_STREAM },
            { streamId: stream('b'), events: newEvents(1), expectedRevision: NO_STREAM },
          ]),
        ).rejects.toBeInstanceOf(WrongExpectedVersionError);
        expect(await store.streamRevision(stream('b'))).toBe(0);
      });

      (atomicBatches ? it : it.skip)('appendMany with one conflict appends nothing of the batch (atomicBatches)', async () => {
        const before = await store.headPosition();
        await store.append(stream('c'), newEvents(2), NO_STREAM);
        await expect(
          store.appendMany([
            { streamId: stream('a'), events: newEvents(2), expectedRevision: NO_STREAM },
            { streamId: stream('b'), events: newEvents(1), expectedRevision: NO_STREAM },
            { streamId: stream('c'), events: newEvents(1), expectedRevision: 0 },
          ]),
        ).rejects.toMatchObject({ name: 'WrongExpectedVersionError', streamId: stream('c'), expected: 0, actual: 1 });
        expect(await store.streamRevision(stream('a'))).toBe(-1);
        expect(await store.streamRevision(stream('b'))).toBe(-1);
        expect(await store.streamRevision(stream('c'))).toBe(1);
        expect(await readOurs(before)).toHaveLength(2);
      });

      it('says whether it refuses an event id that is already recorded (refusesDuplicateEventIds)', () => {
        expect(store.refusesDuplicateEventIds === true).toBe(rejectsDuplicates);
      });

      (rejectsDuplicates ? it : it.skip)('rejects an event id that is already recorded, appending nothing', async () => {
        const events = newEvents(2);
        await store.append(stream('a'), events, NO_STREAM);
        // Same id on another stream, together with a fresh event.
        await expect(store.append(stream('b'), [newEvent(9), events[1]], NO_STREAM)).rejects.toThrow();
        // Same id on the same stream.
        await expect(store.append(stream('a'), [events[0]], 1)).rejects.toThrow();
        // Twice in one append.
        const twice = newEvent(7);
        await expect(store.append(stream('c'), [twice, twice], NO_STREAM)).rejects.toThrow();
        // Nothing of those appends was written, and the first one is intact.
        expect(await store.streamRevision(stream('a'))).toBe(1);
        expect(await store.streamRevision(stream('b'))).toBe(-1);
        expect(await store.streamRevision(stream('c'))).toBe(-1);
        expect((await collect(store.readStream(stream('a')))).map(asAppended)).toEqual(events);
      });
    });

    describe('readStream', () => {
      it('reads in revision order, honouring fromRevision and maxCount', async () => {
        const events = newEvents(10);
        await store.append(stream('a'), events.slice(0, 4), NO_STREAM);
        await store.append(stream('other'), newEvents(2), NO_STREAM);
        await store.append(stream('a'), events.slice(4), 3);

        const all = await collect(store.readStream(stream('a')));
        expect(all.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(all.map((e) => e.id)).toEqual(events.map((e) => e.id));
        expectIncreasing(all.map((e) => e.position));

        const window = await collect(store.readStream(stream('a'), { fromRevision: 3, maxCount: 4 }));
        expect(window.map((e) => e.revision)).toEqual([3, 4, 5, 6]);
        expect(window.map((e) => e.id)).toEqual(events.slice(3, 7).map((e) => e.id));
        expect((await collect(store.readStream(stream('a'), { fromRevision: 8 }))).map((e) => e.revision)).toEqual([8, 9]);
        expect((await collect(store.readStream(stream('a'), { maxCount: 2 }))).map((e) => e.revision)).toEqual([0, 1]);
        expect(await collect(store.readStream(stream('a'), { fromRevision: 10 }))).toEqual([]);
      });

      it('yields nothing for a stream that does not exist', async () => {
        expect(await collect(store.readStream(stream('missing')))).toEqual([]);
        expect(await store.streamRevision(stream('missing'))).toBe(-1);
      });
    });

    describe('readAll', () => {
      it('yields events in strictly increasing position order; fromPosition is exclusive', async () => {
        const before = await store.headPosition();
        const a1 = await store.append(stream('a'), newEvents(2), NO_STREAM);
        await store.append(stream('b'), newEvents(3), NO_STREAM);
        await store.append(stream('a'), newEvents(2, 2), a1.nextExpectedRevision);

        const ours = await readOurs(before);
        expect(ours.map((e) => [e.streamId, e.revision])).toEqual([
          [stream('a'), 0],
          [stream('a'), 1],
          [stream('b'), 0],
          [stream('b'), 1],
          [stream('b'), 2],
          [stream('a'), 2],
          [stream('a'), 3],
        ]);
        expectIncreasing(ours.map((e) => e.position));

        // Unfiltered: everything after `before`, ours among it, still in order.
        const everything = await collect(store.readAll({ fromPosition: before }));
        expect(everything.length).toBeGreaterThanOrEqual(ours.length);
        expect(everything.every((e) => e.position > before)).toBe(true);
        expectIncreasing(everything.map((e) => e.position));
        expect(everything.filter((e) => e.streamId.startsWith(prefix)).map((e) => e.id)).toEqual(ours.map((e) => e.id));

        const afterSecond = await readOurs(ours[1].position);
        expect(afterSecond.map((e) => e.id)).toEqual(ours.slice(2).map((e) => e.id));
        expect(await readOurs(ours[ours.length - 1].position)).toEqual([]);
      });

      it('filters by stream prefix, literally', async () => {
        const before = await store.headPosition();
        await store.append(stream('x_1'), newEvents(1), NO_STREAM);
        await store.append(stream('xa1'), newEvents(1), NO_STREAM);
        await store.append(stream('x%2'), newEvents(1), NO_STREAM);
        await store.append(stream('x_3'), newEvents(2), NO_STREAM);
        await store.append(stream('y'), newEvents(1), NO_STREAM);

        const underscore = await collect(store.readAll({ fromPosition: before, streamPrefix: stream('x_') }));
        expect(underscore.map((e) => e.streamId)).toEqual([stream('x_1'), stream('x_3'), stream('x_3')]);
        const x = await collect(store.readAll({ fromPosition: before, streamPrefix: stream('x') }));
        expect(x).toHaveLength(5);
        expect(await collect(store.readAll({ fromPosition: before, streamPrefix: stream('z') }))).toEqual([]);
      });

      it('honours maxCount', async () => {
        const before = await store.headPosition();
        await store.append(stream('a'), newEvents(5), NO_STREAM);
        const two = await readOurs(before, 2);
        expect(two.map((e) => e.revision)).toEqual([0, 1]);
        expect(await readOurs(before, 50)).toHaveLength(5);
        const page = await collect(store.readAll({ fromPosition: before, maxCount: 3 }));
        expect(page.length).toBeLessThanOrEqual(3);
      });
    });

    describe('existingEventIds and headPosition', () => {
      it('tells which event ids are already recorded', async () => {
        const events = newEvents(3);
        await store.append(stream('a'), events, NO_STREAM);
        const unknown = [randomUUID(), randomUUID()];
        const found = await store.existingEventIds([unknown[0], events[0].id, events[2].id, unknown[1]]);
        expect(found).toEqual(new Set([events[0].id, events[2].id]));
        expect(await store.existingEventIds([])).toEqual(new Set());
        expect(await store.existingEventIds(unknown)).toEqual(new Set());
      });

      it('existingEventIds handles a batch of 1,000 ids', async () => {
        const events = newEvents(500);
        await store.append(stream('a'), events, NO_STREAM);
        const ids = [...events.map((e) => e.id), ...Array.from({ length: 500 }, () => randomUUID())];
        const found = await store.existingEventIds(ids);
        expect(found.size).toBe(500);
        expect(events.every((e) => found.has(e.id))).toBe(true);
      });

      it('headPosition is the position of the last event', async () => {
        const before = await store.headPosition();
        expect(typeof before).toBe('bigint');
        expect(before >= 0n).toBe(true);
        const result = await store.append(stream('a'), newEvents(2), NO_STREAM);
        const head = await store.headPosition();
        expect(head >= result.position).toBe(true);
        expect(await readOurs(head)).toEqual([]);
      });
    });

    describe('listStreams', () => {
      it('lists the streams under a prefix once each, in id order, matching the prefix literally', async () => {
        await store.append(stream('b'), newEvents(3), NO_STREAM);
        await store.append(stream('a'), newEvents(1), NO_STREAM);
        await store.append(`outside-${randomUUID()}`, newEvents(1), NO_STREAM);
        await store.appendMany([
          { streamId: stream('xa'), events: newEvents(2), expectedRevision: NO_STREAM },
          { streamId: stream('x_1'), events: newEvents(1), expectedRevision: NO_STREAM },
          { streamId: stream('c'), events: newEvents(1), expectedRevision: NO_STREAM },
        ]);
        await store.append(stream('a'), newEvents(2, 1), 0);

        const listed: string[] = [];
        for await (const id of store.listStreams(prefix)) listed.push(id);
        expect(listed).toEqual(['a', 'b', 'c', 'x_1', 'xa'].map(stream));
        const underscore: string[] = [];
        for await (const id of store.listStreams(stream('x_'))) underscore.push(id);
        expect(underscore).toEqual([stream('x_1')]);
        const none: string[] = [];
        for await (const id of store.listStreams(stream('zz'))) none.push(id);
        expect(none).toEqual([]);
      });
    });

    describe('subscribeToAll', () => {
      it('catches up from a position, then delivers live appends; close() ends it', async () => {
        const first = await store.append(stream('a'), newEvents(1), NO_STREAM);
        await store.append(stream('a'), newEvents(2, 1), 0);
        await store.append(`outside-${randomUUID()}`, newEvents(1), NO_STREAM);
        await store.append(stream('b'), newEvents(1), NO_STREAM);

        const sub = store.subscribeToAll({ fromPosition: first.position, streamPrefix: prefix });
        const it = sub[Symbol.asyncIterator]();
        const received: StoredEvent[] = [];
        const take = async (n: number): Promise<void> => {
          for (let i = 0; i < n; i++) {
            const next = await withTimeout(it.next(), deliveryMs);
            if (next === TIMEOUT) throw new Error(`subscription delivered ${received.length} events, then nothing`);
            if (next.done) throw new Error('subscription ended early');
            received.push(next.value);
          }
        };
        try {
          await take(3); // catch-up: a@1, a@2, b@0
          expect(received.map((e) => [e.streamId, e.revision])).toEqual([
            [stream('a'), 1],
            [stream('a'), 2],
            [stream('b'), 0],
          ]);

          // Live: wait on the subscription first, then append.
          const pending = take(2);
          await new Promise((r) => setTimeout(r, 50));
          await store.append(stream('c'), newEvents(1), NO_STREAM);
          await store.append(stream('a'), newEvents(1, 3), 2);
          await pending;
          expect(received.slice(3).map((e) => [e.streamId, e.revision])).toEqual([
            [stream('c'), 0],
            [stream('a'), 3],
          ]);
          expectIncreasing(received.map((e) => e.position));

          // close() while a next() is waiting ends the iterator promptly.
          const waiting = it.next();
          await sub.close();
          const end = await withTimeout(waiting, 2000);
          expect(end).not.toBe(TIMEOUT);
          expect((end as IteratorResult<StoredEvent>).done).toBe(true);
          expect((await it.next()).done).toBe(true);
        } finally {
          await sub.close();
        }
      });

      it('close() before iterating ends a for-await loop at once', async () => {
        await store.append(stream('a'), newEvents(2), NO_STREAM);
        const sub = store.subscribeToAll({ streamPrefix: prefix });
        await sub.close();
        const got = await withTimeout(collect(sub), 2000);
        expect(got === TIMEOUT ? 'timeout' : 'ended').toBe('ended');
      });

      it('breaking out of for-await stops the subscription', async () => {
        const before = await store.headPosition();
        await store.append(stream('a'), newEvents(5), NO_STREAM);
        const sub = store.subscribeToAll({ fromPosition: before, streamPrefix: prefix });
        const seen: number[] = [];
        for await (const e of sub) {
          seen.push(e.revision);
          if (seen.length === 2) break;
        }
        expect(seen).toEqual([0, 1]);
        await sub.close();
      });
    });

    describe('restart', () => {
      it('continues revisions and positions after close and reopen; a subscription resumes from a saved position', async () => {
        const before = await store.headPosition();
        const a = await store.append(stream('a'), newEvents(3), NO_STREAM);
        const saved = a.position; // e.g. a projection's checkpoint
        const b = await store.append(stream('b'), newEvents(2), NO_STREAM);
        await store.close();

        store = await factory.open();
        expect(await store.streamRevision(stream('a'))).toBe(2);
        expect(await store.streamRevision(stream('b'))).toBe(1);
        expect((await store.headPosition()) >= b.position).toBe(true);
        await expect(store.append(stream('a'), newEvents(1), 1)).rejects.toBeInstanceOf(WrongExpectedVersionError);
        const a2 = await store.append(stream('a'), newEvents(2, 3), 2);
        expect(a2.nextExpectedRevision).toBe(4);
        expect(a2.position > b.position).toBe(true);

        const ours = await readOurs(before);
        expect(ours.map((e) => [e.streamId, e.revision])).toEqual([
          [stream('a'), 0],
          [stream('a'), 1],
          [stream('a'), 2],
          [stream('b'), 0],
          [stream('b'), 1],
          [stream('a'), 3],
          [stream('a'), 4],
        ]);
        expectIncreasing(ours.map((e) => e.position));

        const sub = store.subscribeToAll({ fromPosition: saved, streamPrefix: prefix });
        const it = sub[Symbol.asyncIterator]();
        try {
          const got: StoredEvent[] = [];
          for (let i = 0; i < 4; i++) {
            const next = await withTimeout(it.next(), deliveryMs);
            if (next === TIMEOUT || next.done) throw new Error(`subscription delivered only ${got.length} events`);
            got.push(next.value);
          }
          expect(got.map((e) => e.id)).toEqual(ours.slice(3).map((e) => e.id));
          // Exactly those: nothing more arrives.
          const extra = await withTimeout(it.next(), quietMs);
          expect(extra).toBe(TIMEOUT);
        } finally {
          await sub.close();
        }
      });
    });
  });
}
