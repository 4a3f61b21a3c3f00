import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { EventMetadata } from '@crm/contracts';
import { replayPages, type EventStore, type ReadAllOptions, type ReplayedEvent, type StoredEvent } from './port';
import { asciiJson, occurredAtOf, SqliteEventStore } from './sqlite-event-store';

/** What readAllPages must give of a readAll event. */
const replayed = (e: StoredEvent): ReplayedEvent => ({ streamId: e.streamId, revision: e.revision, position: e.position, type: e.type, data: e.data, metadata: { occurredAt: e.metadata.occurredAt } });

/** Checks a replay's stream numbers where given (one per stream: 0, 1, … in order of first appearance) and leaves them out. */
function withoutStreamIndex(events: ReplayedEvent[]): ReplayedEvent[] {
  const first = new Map<string, number>();
  return events.map(({ streamIndex, ...e }) => {
    if (!first.has(e.streamId)) first.set(e.streamId, first.size);
    if (streamIndex !== undefined) expect(streamIndex).toBe(first.get(e.streamId));
    return e;
  });
}

async function pages(store: SqliteEventStore, options: ReadAllOptions): Promise<ReplayedEvent[][]> {
  const out: ReplayedEvent[][] = [];
  for await (const page of store.readAllPages(options)) out.push([...page]);
  return out;
}

async function readAll(store: SqliteEventStore, options: ReadAllOptions): Promise<ReplayedEvent[]> {
  const out: ReplayedEvent[] = [];
  for await (const e of store.readAll(options)) out.push(replayed(e));
  return out;
}

describe('occurredAtOf', () => {
  it('equals JSON.parse(json).occurredAt, also where the text needs parsing', () => {
    const texts = [
      '{"correlationId":"c","occurredAt":"2025-01-01T00:00:00+08:00","recordedAt":"2026-11-23T19:30:48.133Z","schemaVersion":1}',
      '{"occurredAt":"2025-01-01T00:00:00.000+08:00"}',
      '{"source":"a \\"occurredAt\\":\\"x\\"","occurredAt":"2025-02-01T00:00:00Z"}',
      '{"occurredAt":"2025-03-01T00:00:00\\u002B08:00"}',
      '{"nested":{"occurredAt":"wrong"},"occurredAt":"right"}',
      '{"occurredAt":"first","occurredAt":"last"}',
      '{ "occurredAt" : "spaced" }',
    ];
    for (const t of texts) expect(occurredAtOf(t)).toBe((JSON.parse(t) as EventMetadata).occurredAt);
  });
});

describe('asciiJson', () => {
  it('gives ASCII text that parses to the same value', () => {
    for (const value of [{ name: '客户 "1"', emoji: '😀', lone: '\ud800x', plain: 'abc' }, ['é', 1, null], 'plain']) {
      const text = asciiJson(JSON.stringify(value));
      expect(text).not.toMatch(/[\u0080-\uffff]/);
      expect(JSON.parse(text)).toEqual(value);
    }
  });
});

describe('SqliteEventStore.readAllPages', () => {
  let dir: string;
  let file: string;
  let writer: SqliteEventStore;
  /** Rounds of 25 events on each of 4 streams (3 of them customer streams). */
  const rounds = 30;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crm-sqlite-replay-'));
    file = join(dir, 'events.db');
    writer = SqliteEventStore.open(file);
    const streams = ['customer-A', 'customer-B"quoted', 'customer-客户', 'other-1'];
    for (let r = 0; r < rounds; r++) {
      const i = r * 25;
      await writer.appendMany(
        streams.map((streamId) => ({
          streamId,
          expectedRevision: 'any' as const,
          events: Array.from({ length: 25 }, (_, j) => ({
            id: `${streamId}-${i + j}`,
            type: j % 3 === 0 ? 'Named' : j % 3 === 1 ? 'Type "quoted"' : 'Other',
            data: { n: i + j, text: j % 5 === 0 ? '客户 "x"\n' : 'plain', nested: { list: [1, null, true] } },
            metadata: {
              correlationId: 'c',
              causationId: 'c',
              occurredAt: j % 7 === 0 ? `2025-01-01T00:00:${String(j).padStart(2, '0')}.000+08:00` : `2025-02-01T00:00:00Z`,
              recordedAt: '2026-01-01T00:00:00.000Z',
              schemaVersion: 1,
              ...(j % 11 === 0 ? { source: '{"occurredAt":"not this"}' } : {}),
            },
          })),
        })),
      );
    }
  });

  afterAll(async () => {
    await writer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['on the calling thread', 1_000_000],
    ['on the replay thread', 0],
  ])('gives the events of readAll in pages %s', async (_label, replayThreadMinEvents) => {
    const store = SqliteEventStore.open(file, { replayThreadMinEvents, pageSize: 300 });
    try {
      for (const options of [{}, { streamPrefix: 'customer-' }, { streamPrefix: 'customer-客' }, { fromPosition: 1234n, streamPrefix: 'customer-' }, { fromPosition: 10n ** 9n }]) {
        const expected = await readAll(store, options);
        const got = await pages(store, options);
        expect(withoutStreamIndex(got.flat())).toEqual(expected);
        expect(got.every((p) => p.length <= 300)).toBe(true);
        // The replay thread numbers the streams (the projector keeps its customers in an array by them).
        if (replayThreadMinEvents === 0) expect(got.flat().every((e) => e.streamIndex !== undefined)).toBe(true);
      }
      expect((await readAll(store, {})).length).toBe(rounds * 100);
    } finally {
      await store.close();
    }
  });

  it('the replay thread ends when the reader stops early, and the store still closes', async () => {
    const store = SqliteEventStore.open(file, { replayThreadMinEvents: 0, pageSize: 100 });
    let seen = 0;
    for await (const page of store.readAllPages()) {
      seen += page.length;
      if (seen >= 300) break;
    }
    expect(seen).toBe(300);
    await store.close();
    await expect(pages(store, {})).rejects.toThrow('closed');
  });

  it('replayPages pages readAll for a store without readAllPages', async () => {
    const store = SqliteEventStore.open(file);
    try {
      const withoutPages = { readAll: (o: ReadAllOptions) => store.readAll(o) } as unknown as EventStore;
      const got: ReplayedEvent[][] = [];
      for await (const page of replayPages(withoutPages, { streamPrefix: 'customer-' })) got.push(page.map((e) => replayed(e as StoredEvent)));
      expect(got.map((p) => p.length)).toEqual([1000, 1000, 250]);
      expect(got.flat()).toEqual(await readAll(store, { streamPrefix: 'customer-' }));
    } finally {
      await store.close();
    }
  });
});
