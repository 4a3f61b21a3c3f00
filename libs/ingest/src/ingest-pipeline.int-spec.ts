import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { customerStream, eventIdOf, SqliteEventStore, streamEvents, type AppendRequest, type AppendResult, type EventStore } from '@crm/event-store';
import { createWriteSide } from './write-side';
import { SqliteQuarantine } from './quarantine';
import type { RawInput } from './ndjson';

/** An upstream ShipmentPickedUp line (freight in fen). */
function pickup(eventId: string, at: string, freightFen: number, customerId = 'C1'): string {
  return JSON.stringify({
    eventId,
    type: 'ShipmentPickedUp',
    occurredAt: at,
    customerId,
    source: 'test',
    data: { waybillNo: `SF${eventId.slice(-4)}`, product: 'NEXT_DAY', freightFen, originCity: '深圳', destinationCity: '上海', weightGrams: 1000 },
  });
}

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** Lines as an NDJSON source gives them, numbered from 1. */
const numbered = (raws: string[]): RawInput[] => raws.map((raw, i) => ({ line: i + 1, raw }));

/**
 * Two lines per batch, so the batch with the repeated id is screened while the one with the first copy is still
 * being appended (the pipeline keeps two in flight): the repeat must count as a duplicate whether the store
 * reports the ids of its pending appends (SQLite reserves them at once) or the pipeline has to remember them.
 */
describe('ingest pipeline: an eventId repeated while its first copy is still being appended', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crm-pipeline-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const lines = numbered([
    pickup(id(1), '2026-01-05T10:00:00+08:00', 1000),
    pickup(id(2), '2026-01-05T11:00:00+08:00', 2000),
    // The same eventId for another customer: that customer's state cannot know it, only the ids in flight can.
    pickup(id(1), '2026-01-05T12:00:00+08:00', 9999, 'C2'),
    pickup(id(3), '2026-01-05T13:00:00+08:00', 3000),
  ]);

  /** The SQLite store behind a facade that appends a little later and only reports ids once they are written. */
  function slowStore(inner: SqliteEventStore): EventStore {
    const facade = Object.create(inner) as EventStore & { reportsPendingEventIds?: boolean };
    Object.defineProperty(facade, 'reportsPendingEventIds', { value: false });
    facade.appendMany = (requests: AppendRequest[]): Promise<AppendResult[]> => new Promise((ok) => setTimeout(ok, 20)).then(() => inner.appendMany(requests));
    return facade;
  }

  it.each([
    ['a store that reports pending ids (SQLite)', false],
    ['a store that does not (the pipeline tracks them)', true],
  ])('%s', async (_name, slow) => {
    const data = join(dir, slow ? 'slow' : 'sqlite');
    const sqlite = SqliteEventStore.open(join(data, 'events.sqlite'), { appendThread: true });
    expect(sqlite.reportsPendingEventIds).toBe(true);
    const store = slow ? slowStore(sqlite) : sqlite;
    expect(store.reportsPendingEventIds === true).toBe(!slow);
    const w = createWriteSide(store, new SqliteQuarantine(join(data, 'quarantine.sqlite')));
    try {
      const r = await w.pipeline.ingest(lines, { source: 'test', batchSize: 2 });
      expect({ accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected }).toEqual({ accepted: 3, duplicates: 1, rejected: 0 });
      const facts = (await streamEvents(sqlite, customerStream('C1'))).filter((e) => e.type === 'ShipmentPickedUp');
      expect(facts.map((e) => [e.id, (e.data as { freightFen: number }).freightFen])).toEqual([
        [id(1), 1000],
        [id(2), 2000],
        [id(3), 3000],
      ]);
      expect(await sqlite.streamRevision(customerStream('C2'))).toBe(-1);
    } finally {
      await w.close();
    }
  });
});

/**
 * After its first batch an import on SQLite looks no eventId up and checks no repeat itself (the store refuses
 * them at append): a batch that repeats an id fails whole and is redone, and the repeat, also for another customer
 * and with another payload, counts as a duplicate once, the first copy recorded.
 */
describe('ingest pipeline: an eventId repeated within a batch that was not screened', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crm-pipeline-repeat-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('records the first copy and counts the repeat as a duplicate', async () => {
    const sqlite = SqliteEventStore.open(join(dir, 'events.sqlite'), { appendThread: true });
    let lookups = 0;
    const facade = Object.create(sqlite) as EventStore;
    facade.existingEventIds = (ids) => {
      lookups++;
      return sqlite.existingEventIds(ids);
    };
    const w = createWriteSide(facade, new SqliteQuarantine(join(dir, 'quarantine.sqlite')));
    try {
      const lines = numbered([
        pickup(id(1), '2026-01-05T10:00:00+08:00', 1000),
        pickup(id(2), '2026-01-05T11:00:00+08:00', 2000),
        pickup(id(3), '2026-01-05T12:00:00+08:00', 3000),
        pickup(id(3), '2026-01-05T12:30:00+08:00', 9999, 'C2'),
        pickup(id(4), '2026-01-05T13:00:00+08:00', 4000),
        pickup(id(4), '2026-01-05T13:30:00+08:00', 8888),
      ]);
      const r = await w.pipeline.ingest(lines, { source: 'test', batchSize: 3 });
      expect({ accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected }).toEqual({ accepted: 4, duplicates: 2, rejected: 0 });
      // The first batch was screened; the second was not, and was looked up once it had failed.
      expect(lookups).toBe(2);
      const facts = (await streamEvents(sqlite, customerStream('C1'))).filter((e) => e.type === 'ShipmentPickedUp');
      expect(facts.map((e) => [e.id, (e.data as { freightFen: number }).freightFen])).toEqual([
        [id(1), 1000],
        [id(2), 2000],
        [id(3), 3000],
        [id(4), 4000],
      ]);
      expect(await sqlite.streamRevision(customerStream('C2'))).toBe(-1);
    } finally {
      await w.close();
    }
  });
});

/**
 * A fact another writer recorded after this pipeline screened its ids (the race, made certain here by a store whose
 * first `existingEventIds` knows nothing): with a store that refuses a recorded id (SQLite) the append fails and the
 * batch is redone on a fresh screen; with one that does not (as EventStoreDB), the decider must check the stream itself.
 */
describe('ingest pipeline: a fact recorded by another writer after the screen', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crm-pipeline-race-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['a store that refuses recorded ids', true],
    ['a store that does not', false],
  ])('%s records it once, and counts the second copy as a duplicate', async (_name, refuses) => {
    const data = join(dir, refuses ? 'refuses' : 'not');
    const sqlite = SqliteEventStore.open(join(data, 'events.sqlite'), { appendThread: true });
    // The other writer: it recorded id(1) through the same store.
    const other = createWriteSide(sqlite, new SqliteQuarantine(join(data, 'other.sqlite')));
    await other.pipeline.ingest([{ line: 1, raw: pickup(id(1), '2026-01-05T10:00:00+08:00', 1000) }], { source: 'other' });
    const facade = Object.create(sqlite) as EventStore;
    Object.defineProperty(facade, 'refusesDuplicateEventIds', { value: refuses });
    // The screen misses it (as if the other writer recorded it just after); a check after the store refused it does not.
    let screens = 0;
    facade.existingEventIds = (ids) => (screens++ === 0 ? Promise.resolve(new Set<string>()) : sqlite.existingEventIds(ids));
    // What a store that does not refuse it would have recorded twice (this one is SQLite underneath, which refuses).
    const reached: string[] = [];
    facade.appendMany = async (requests: AppendRequest[]): Promise<AppendResult[]> => {
      const recorded = await sqlite.existingEventIds(requests.flatMap((q) => q.events.map((e) => eventIdOf(e.id))));
      reached.push(...recorded);
      return sqlite.appendMany(requests);
    };
    const w = createWriteSide(facade, new SqliteQuarantine(join(data, 'quarantine.sqlite')));
    try {
      const r = await w.pipeline.ingest(numbered([pickup(id(1), '2026-01-05T10:00:00+08:00', 1000), pickup(id(2), '2026-01-06T10:00:00+08:00', 2000)]), { source: 'test' });
      expect({ accepted: r.accepted, duplicates: r.duplicates }).toEqual({ accepted: 1, duplicates: 1 });
      const facts = (await streamEvents(sqlite, customerStream('C1'))).filter((e) => e.type === 'ShipmentPickedUp');
      expect(facts.map((e) => e.id)).toEqual([id(1), id(2)]);
      // Only a store that refuses it may be handed the recorded id: the decider skipped its check on the store's word.
      expect(reached).toEqual(refuses ? [id(1)] : []);
    } finally {
      await w.close();
      await other.close();
    }
  });
});

/**
 * A store that refuses every recorded or pending eventId at append (SQLite) is not asked before each batch: only the
 * first, and the batches after a duplicate. A recorded id met in a batch that was not screened fails that batch's
 * append, and the batch is decided again after a lookup: the counts and the stream are those of a screened run.
 */
describe('ingest pipeline: batches not screened against a store that refuses recorded ids', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crm-pipeline-optimistic-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const day = (n: number) => `2026-01-${String(n).padStart(2, '0')}T10:00:00+08:00`;
  const lines = numbered([
    pickup(id(10), day(10), 1000),
    pickup(id(11), day(11), 1100), // batch 1: screened
    pickup(id(12), day(12), 1200),
    pickup(id(13), day(13), 1300), // batch 2: not screened
    pickup(id(1), day(14), 9999), // batch 3: not screened, and id(1) is recorded (with another payload)
    pickup(id(14), day(14), 1400),
    pickup(id(15), day(15), 1500),
    pickup(id(16), day(16), 1600),
  ]);

  /**
   * A store holding id(1), and a write side on it whose store lookups are recorded. `screenAll`: the facade does not
   * report the ids of appends in flight, so the pipeline tracks them itself and looks ids up before every batch.
   */
  async function setUp(name: string, screenAll: boolean) {
    const sqlite = SqliteEventStore.open(join(dir, name, 'events.sqlite'), { appendThread: true });
    const earlier = createWriteSide(sqlite, new SqliteQuarantine(join(dir, name, 'earlier.sqlite')));
    await earlier.pipeline.ingest([{ line: 1, raw: pickup(id(1), '2026-01-05T10:00:00+08:00', 1000) }], { source: 'earlier' });
    const facade = Object.create(sqlite) as EventStore;
    if (screenAll) Object.defineProperty(facade, 'reportsPendingEventIds', { value: false });
    const lookups: string[][] = [];
    facade.existingEventIds = (ids) => {
      lookups.push([...ids]);
      return sqlite.existingEventIds(ids);
    };
    return { sqlite, lookups, earlier, w: createWriteSide(facade, new SqliteQuarantine(join(dir, name, 'quarantine.sqlite'))) };
  }

  it('looks ids up only for the first batch and after a duplicate, and records the history of a screened run', async () => {
    const { sqlite, lookups, earlier, w } = await setUp('optimistic', false);
    const reference = await setUp('screened', true);
    try {
      const r = await w.pipeline.ingest(lines, { source: 'test', batchSize: 2 });
      const screened = await reference.w.pipeline.ingest(lines, { source: 'test', batchSize: 2 });
      expect(reference.lookups).toHaveLength(4);
      expect({ accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected }).toEqual({ accepted: 7, duplicates: 1, rejected: 0 });
      // Batch 1 first; batch 2 never; batch 3 once its append was refused (batch 4 may go unscreened: it can be
      // decided before the refusal of batch 3, still in flight, is seen).
      expect(lookups[0]).toEqual([id(10), id(11)]);
      expect(lookups.flat()).not.toContain(id(12));
      expect(lookups).toContainEqual([id(1), id(14)]);
      const facts = (await streamEvents(sqlite, customerStream('C1'))).filter((e) => e.type === 'ShipmentPickedUp');
      expect(facts.map((e) => [e.id, (e.data as { freightFen: number }).freightFen])).toEqual([
        [id(1), 1000],
        [id(10), 1000],
        [id(11), 1100],
        [id(12), 1200],
        [id(13), 1300],
        [id(14), 1400],
        [id(15), 1500],
        [id(16), 1600],
      ]);
      const all = await streamEvents(sqlite, customerStream('C1'));
      expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
      // Derived events included, the stream is the one a run that screened every batch recorded.
      expect({ accepted: screened.accepted, duplicates: screened.duplicates }).toEqual({ accepted: 7, duplicates: 1 });
      const history = (events: typeof all) => events.map((e) => [e.id, e.type, e.data]);
      expect(history(all)).toEqual(history(await streamEvents(reference.sqlite, customerStream('C1'))));
    } finally {
      await w.close();
      await earlier.close();
      await reference.w.close();
      await reference.earlier.close();
    }
  });
});
