import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import type { EventMetadata } from '@crm/contracts';
import { verifyChain } from './hash-chain';
import type { NewEvent, StoredEvent } from './port';
import { SqliteEventStore } from './sqlite-event-store';
import { insertBehindTheStore, NAMED_EVENTS } from '../../../test/support/sqlite-behind-the-store';

function ev(stream: string, n: number): NewEvent {
  const id = `${stream}-${n}`;
  const metadata: EventMetadata = { correlationId: id, causationId: id, occurredAt: `2026-03-0${1 + (n % 9)}T08:00:00+08:00`, recordedAt: '2026-03-10T00:00:00.000Z', schemaVersion: 1 };
  return { id, type: 'ShipmentPickedUp', data: { waybillNo: `W${n}`, freightFen: 1000 + n, note: '运费 "quoted"' }, metadata };
}

async function collectAll(events: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

function stream(store: SqliteEventStore, id: string): Promise<StoredEvent[]> {
  return collectAll(store.readStream(id));
}

describe('hash chain on the SQLite store', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-chain-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Appends the same events in three batches (two streams interleaved, one stream twice in a batch). */
  async function fill(store: SqliteEventStore): Promise<void> {
    await store.appendMany([
      { streamId: 'customer-a', events: [ev('a', 0), ev('a', 1)], expectedRevision: -1 },
      { streamId: 'customer-b', events: [ev('b', 0)], expectedRevision: -1 },
      { streamId: 'customer-a', events: [ev('a', 2)], expectedRevision: 1 },
    ]);
    await store.append('customer-a', [ev('a', 3), ev('a', 4)], 2);
    await store.append('customer-b', [ev('b', 1)], 0);
  }

  it.each([false, true])('writes the same verifiable chain on the calling thread and on the append thread (appendThread=%s)', async (appendThread) => {
    const store = SqliteEventStore.open(join(dir, `events-${appendThread}.sqlite`), { appendThread });
    await fill(store);
    const a = await stream(store, 'customer-a');
    expect(a.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4]);
    expect(a.every((e) => /^[0-9a-f]{64}$/.test(e.metadata.hash ?? ''))).toBe(true);
    expect(verifyChain(a)).toEqual([]);
    expect(verifyChain(await stream(store, 'customer-b'))).toEqual([]);
    await store.close();

    // Both paths give identical hashes for identical events.
    const other = SqliteEventStore.open(join(dir, `events-${!appendThread}.sqlite`), { appendThread: !appendThread });
    await fill(other);
    expect((await stream(other, 'customer-a')).map((e) => e.metadata.hash)).toEqual(a.map((e) => e.metadata.hash));
    await other.close();
  });

  it('names an altered, a deleted and an inserted event when the file is changed behind the store', async () => {
    const file = join(dir, 'events.sqlite');
    const store = SqliteEventStore.open(file);
    await fill(store);
    await store.close();

    const db = new Database(file);
    // a changed amount in customer-a revision 1
    const at = (stream: string, revision: number) => (db.prepare(`SELECT position FROM (${NAMED_EVENTS}) WHERE stream_id = ? AND revision = ?`).pluck().get(stream, revision) as number);
    db.prepare("UPDATE events SET data = json_set(data, '$.freightFen', 99999) WHERE position = ?").run(at('customer-a', 1));
    // customer-a revision 3 deleted
    db.prepare('DELETE FROM events WHERE position = ?').run(at('customer-a', 3));
    // a forged event copied into customer-b at revision 2 with the hash of the event before it: a plain INSERT, and
    // one written with its link and moving the head, as the store would
    const row = db.prepare(`${NAMED_EVENTS} WHERE e.position = ?`).get(at('customer-b', 1)) as { position: number; data: string; metadata: string };
    const copy = { stream: 'customer-b', revision: 2, type: 'ShipmentPickedUp', data: row.data, metadata: row.metadata };
    insertBehindTheStore(db, { ...copy, eventId: 'plain' });
    const forged = insertBehindTheStore(db, { ...copy, eventId: 'forged', previous: row.position });
    db.prepare("UPDATE stream_heads SET revision = 2, position = ? WHERE id = (SELECT id FROM streams WHERE stream_id = 'customer-b')").run(forged);
    db.close();

    const reopened = SqliteEventStore.open(file);
    const a = verifyChain(await stream(reopened, 'customer-a'));
    expect(a.map((b) => [b.kind, b.revision, b.eventId])).toEqual([
      ['ALTERED', 1, 'a-1'],
      ['REVISION_GAP', 4, 'a-4'],
      ['ALTERED', 4, 'a-4'],
    ]);
    expect(a[1]).toMatchObject({ expected: 'revision 3', found: 'revision 4' });
    const b = verifyChain(await stream(reopened, 'customer-b'));
    expect(b.map((x) => [x.kind, x.revision, x.eventId])).toEqual([['ALTERED', 2, 'forged']]);
    expect((await collectAll(reopened.eventsOutsideStreams())).map((e) => e.id)).toEqual(['plain']);
    await reopened.close();
  });
});
