import { spawn } from 'child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { randomUUID } from 'crypto';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import type { EventMetadata } from '@crm/contracts';
import { NO_STREAM, START, WrongExpectedVersionError, type NewEvent, type StoredEvent } from './port';
import { DuplicateEventIdError, SqliteEventStore } from './sqlite-event-store';
import { verifyChain } from './hash-chain';
import { insertBehindTheStore } from '../../../test/support/sqlite-behind-the-store';

function ev(n: number): NewEvent & { id: string } {
  const id = randomUUID();
  const metadata: EventMetadata = {
    correlationId: id,
    causationId: id,
    occurredAt: '2025-03-01T00:00:00.000Z',
    recordedAt: new Date().toISOString(),
    schemaVersion: 1,
  };
  return { id, type: 'Tested', data: { n }, metadata };
}
const evs = (count: number): (NewEvent & { id: string })[] => Array.from({ length: count }, (_, i) => ev(i));

async function collect<T = StoredEvent>(events: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const e of events) out.push(e);
  return out;
}

function nextWithin<T>(it: AsyncIterator<T>, ms: number): Promise<IteratorResult<T> | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    it.next(),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms))),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Another process writing to the same file with plain better-sqlite3 (no notification reaches us), the way a
 * store does: inside BEGIN IMMEDIATE it writes one event for `streamId` at `revision` with its link and the
 * stream's new head (and key, for a new stream), prints "locked", holds the write lock for `holdMs`, commits and prints "committed".
 */
function otherProcessAppend(file: string, streamId: string, revision: number, holdMs: number, eventId: string = randomUUID()) {
  const script = `
    const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
    const db = new Database(${JSON.stringify(file)});
    db.pragma('busy_timeout = 5000');
    db.exec('BEGIN IMMEDIATE');
    const stream = ${JSON.stringify(streamId)};
    const position = db.prepare("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) + 1").pluck().get();
    const key = db.prepare('SELECT id FROM streams WHERE stream_id = ?').pluck().get(stream)
      ?? db.prepare('INSERT INTO streams (stream_id, id) SELECT ?, coalesce(max(id), 0) + 1 FROM streams RETURNING id').pluck().get(stream);
    const type = db.prepare('SELECT id FROM event_types WHERE name = ?').pluck().get('FromOtherProcess')
      ?? db.prepare("INSERT INTO event_types (name) VALUES ('FromOtherProcess') RETURNING id").pluck().get();
    const head = db.prepare('SELECT position FROM stream_heads WHERE id = ?').pluck().get(key);
    db.prepare('INSERT INTO events (position, event_id, stream_key, revision, type_key, data, metadata, previous) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(position, ${JSON.stringify(eventId)}, key, ${revision}, type, '{"other":true}',
        JSON.stringify({ correlationId: 'c', causationId: 'c', occurredAt: 'x', recordedAt: 'x', schemaVersion: 1 }), head ?? 0);
    db.prepare('INSERT INTO stream_heads (id, revision, position) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, position = excluded.position')
      .run(key, ${revision}, position);
    process.stdout.write('locked\\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${holdMs});
    db.exec('COMMIT');
    db.close();
    process.stdout.write('committed\\n');
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const waitFor = (line: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (out.includes(line)) resolve();
      };
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        check();
      });
      child.on('exit', (code) => (out.includes(line) ? resolve() : reject(new Error(`child exited ${code}: ${out}`))));
      check();
    });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { locked: waitFor('locked'), committed: waitFor('committed'), exited };
}

/** Every stream's name, key, revision and head position, by name. */
const HEADS_BY_NAME = 'SELECT s.stream_id, s.id, h.revision, h.position FROM streams s JOIN stream_heads h ON h.id = s.id ORDER BY s.stream_id';

/** A version-7 file back to version 6: streams and types by name in the rows, the links in a table of their own. */
const BACK_TO_VERSION_6 = `
  CREATE TABLE events_named (position INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, stream_id TEXT NOT NULL, revision INTEGER NOT NULL,
    type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, metadata_ids INTEGER NOT NULL DEFAULT 0, metadata_context INTEGER NOT NULL DEFAULT 0);
  INSERT INTO events_named SELECT e.position, e.event_id, s.stream_id, e.revision, t.name, e.data, e.metadata, e.metadata_ids, e.metadata_context
    FROM events e JOIN streams s ON s.id = e.stream_key JOIN event_types t ON t.id = e.type_key;
  CREATE TABLE stream_links (position INTEGER PRIMARY KEY, previous INTEGER);
  INSERT INTO stream_links (position, previous) SELECT position, nullif(previous, 0) FROM events WHERE previous IS NOT NULL;
  DROP TABLE events;
  ALTER TABLE events_named RENAME TO events;
  DROP TABLE event_types;
  DROP INDEX streams_by_key;
  PRAGMA user_version = 6;`;

describe('SqliteEventStore', () => {
  let dir: string;
  let file: string;
  const open: SqliteEventStore[] = [];
  const openStore = (options: Parameters<typeof SqliteEventStore.open>[1] = {}): SqliteEventStore => {
    const s = SqliteEventStore.open(file, options);
    open.push(s);
    return s;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-sqlite-es-'));
    file = join(dir, 'a', 'b', 'events.db');
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  describe('basics', () => {
    it('creates the directory, uses WAL, and starts empty at START', async () => {
      const store = openStore();
      expect(await store.headPosition()).toBe(START);
      expect(await collect(store.readAll())).toEqual([]);
      const db = new Database(file, { readonly: true });
      try {
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
        const columns = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('events');
        expect(columns).toEqual(['position', 'event_id', 'stream_key', 'revision', 'type_key', 'data', 'metadata', 'metadata_ids', 'metadata_context', 'previous']);
      } finally {
        db.close();
      }
    });

    it('works in memory', async () => {
      const store = SqliteEventStore.open(':memory:');
      try {
        await store.append('s', evs(2), NO_STREAM);
        expect(await store.headPosition()).toBe(2n);
      } finally {
        await store.close();
      }
    });

    it('close() is idempotent; a closed store rejects calls', async () => {
      const store = openStore();
      await store.close();
      await store.close();
      await expect(store.append('s', evs(1), NO_STREAM)).rejects.toThrow(/closed/);
      await expect(store.headPosition()).rejects.toThrow(/closed/);
      await expect(collect(store.readAll())).rejects.toThrow(/closed/);
    });

    it('close() ends the subscriptions of the store', async () => {
      const store = openStore();
      const sub = store.subscribeToAll();
      const it = sub[Symbol.asyncIterator]();
      const pending = nextWithin(it, 2000);
      await store.close();
      const result = await pending;
      expect(result).not.toBe('timeout');
      expect((result as IteratorResult<StoredEvent>).done).toBe(true);
    });
  });

  describe('appendMany', () => {
    it('maps positions across multi-row inserts, empty requests and a stream that appears twice', async () => {
      const store = openStore();
      await store.append('x', evs(3), NO_STREAM);
      const results = await store.appendMany([
        { streamId: 'a', events: evs(40), expectedRevision: NO_STREAM },
        { streamId: 'x', events: [], expectedRevision: 2 },
        { streamId: 'b', events: evs(33), expectedRevision: NO_STREAM },
        { streamId: 'a', events: evs(5), expectedRevision: 39 },
        { streamId: 'a', events: [], expectedRevision: 44 },
        { streamId: 'c', events: [], expectedRevision: NO_STREAM },
      ]);
      const last = async (s: string): Promise<StoredEvent | undefined> => (await collect(store.readStream(s))).pop();
      expect(results.map((r) => r.nextExpectedRevision)).toEqual([39, 2, 32, 44, 44, -1]);
      expect(results[0].position).toBe(3n + 40n);
      expect(results[1].position).toBe((await last('x'))!.position);
      expect(results[2].position).toBe(3n + 40n + 33n);
      expect(results[3].position).toBe((await last('a'))!.position);
      expect(results[3].position).toBe(3n + 40n + 33n + 5n);
      expect(results[4].position).toBe(results[3].position);
      expect(results[5].position).toBe(START);
      expect((await collect(store.readStream('a'))).map((e) => e.revision)).toEqual(Array.from({ length: 45 }, (_, i) => i));
      expect(await store.headPosition()).toBe(81n);
    });

    it('checks a repeated stream against the revision the batch leaves it at', async () => {
      const store = openStore();
      await expect(
        store.appendMany([
          { streamId: 'a', events: evs(2), expectedRevision: NO_STREAM },
          { streamId: 'a', events: evs(1), expectedRevision: 0 },
        ]),
      ).rejects.toMatchObject({ streamId: 'a', expected: 0, actual: 1 });
      expect(await store.headPosition()).toBe(START);
    });

    it('reports duplicate event ids with DuplicateEventIdError and appends nothing', async () => {
      const store = openStore();
      const [a, b] = evs(2);
      await store.append('s', [a], NO_STREAM);
      const c = ev(3);
      const err = await store
        .appendMany([
          { streamId: 't', events: [b, c], expectedRevision: NO_STREAM },
          { streamId: 'u', events: [a, c], expectedRevision: NO_STREAM },
        ])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DuplicateEventIdError);
      expect([...(err as DuplicateEventIdError).eventIds].sort()).toEqual([a.id, c.id].sort());
      expect(await store.headPosition()).toBe(1n);
    });

    it('appendSerializedSync stores pre-serialized JSON and is checked like appendMany', async () => {
      const store = openStore();
      const e = ev(1);
      const results = store.appendSerializedSync([
        { streamId: 's', expectedRevision: NO_STREAM, events: [{ ...e, data: JSON.stringify(e.data), metadata: JSON.stringify(e.metadata) }] },
      ]);
      expect(results).toEqual([{ streamId: 's', nextExpectedRevision: 0, position: 1n }]);
      const [stored] = await collect(store.readStream('s'));
      const { hash, ...metadata } = stored.metadata;
      expect({ id: stored.id, type: stored.type, data: stored.data, metadata }).toEqual(e);
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
      expect(() => store.appendSerializedSync([{ streamId: 's', expectedRevision: NO_STREAM, events: [] }])).toThrow(
        WrongExpectedVersionError,
      );
      expect(() =>
        store.appendSerializedSync([{ streamId: 't', expectedRevision: NO_STREAM, events: [{ id: e.id, type: 'X', data: '{}', metadata: '{}' }] }]),
      ).toThrow(DuplicateEventIdError);
    });

    it('stores undefined data as null', async () => {
      const store = openStore();
      await store.append('s', [{ ...ev(1), data: undefined }], NO_STREAM);
      expect((await collect(store.readStream('s')))[0].data).toBeNull();
    });

    it('rejects an invalid expected revision', async () => {
      const store = openStore();
      await expect(store.append('s', evs(1), -2)).rejects.toThrow(TypeError);
      await expect(store.append('s', evs(1), 1.5)).rejects.toThrow(TypeError);
      await expect(store.append('', evs(1), NO_STREAM)).rejects.toThrow(TypeError);
    });
  });

  describe('append thread', () => {
    it('appends queued together share a transaction, yet each succeeds or fails on its own', async () => {
      const store = openStore({ appendThread: true });
      await store.append('s', evs(1), NO_STREAM); // the thread is up (the calls below queue behind each other) and knows s's head
      const bad = ev(9);
      (bad as { type: unknown }).type = null; // NOT NULL: SQLite refuses the row halfway through the append
      const settled = await Promise.allSettled([
        store.append('s', evs(2), 0),
        store.append('s', evs(2), 2), // continues the append queued before it
        store.append('s', evs(1), 0), // refused by its expected revision
        store.append('t', [ev(1), bad], NO_STREAM), // takes the transaction back: the others are appended again alone
        store.append('u', evs(1), NO_STREAM),
      ]);
      expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
      expect((settled[2] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedVersionError);
      expect(String((settled[3] as PromiseRejectedResult).reason)).toMatch(/NOT NULL/);
      const s = await collect(store.readStream('s'));
      expect(s.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4]);
      expect(verifyChain(s)).toEqual([]);
      expect(await collect(store.readStream('t'))).toEqual([]);
      expect((await collect(store.readStream('u'))).map((e) => e.revision)).toEqual([0]);
      expect(await store.headPosition()).toBe(6n);
      // The refused appends' ids are free again.
      await store.append('t', [{ ...bad, type: 'Tested' }], NO_STREAM);
    });
    it('numbers streams for the thread: a key from an earlier result spares a lookup; a wrong or forgotten key, the numbers starting over and a group taken back still put every event in its own stream', async () => {
      const store = openStore({ appendThread: true, appendThreadStreams: 3 });
      const streams = ['a', 'b', 'c', 'd', 'e', 'f'];
      const keys = new Map<string, number | undefined>();
      const expected = new Map<string, string[]>(streams.map((s) => [s, []]));
      let seed = 7;
      const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
      for (let round = 0; round < 12; round++) {
        // Several appends queued at once (the thread takes them as one group), each to 1-3 random streams, with the
        // stream's own key, another stream's, or none.
        const calls = Array.from({ length: 3 }, (_, c) => {
          const picked = [...new Set(Array.from({ length: 1 + random(3) }, () => streams[random(streams.length)]))];
          const requests = picked.map((streamId) => {
            const e = { ...ev(round * 100 + c * 10), id: randomUUID() };
            const key = [keys.get(streamId), keys.get(streams[random(streams.length)]), undefined][random(3)];
            return { streamId, events: [e], expectedRevision: 'any' as const, streamKey: key };
          });
          // One append in a few rounds fails halfway (NOT NULL), taking its group back: the others are tried again alone.
          const failing = round % 4 === 3 && c === 1;
          if (failing) (requests[0].events[0] as { type: unknown }).type = null;
          return { requests, failing };
        });
        const settled = await Promise.allSettled(calls.map((c) => store.appendMany(c.requests)));
        settled.forEach((r, c) => {
          expect(r.status).toBe(calls[c].failing ? 'rejected' : 'fulfilled');
          if (r.status !== 'fulfilled') return;
          for (const result of r.value) keys.set(result.streamId, result.streamKey);
          for (const q of calls[c].requests) expected.get(q.streamId)?.push(q.events[0].id);
        });
      }
      expect([...keys.values()].every((k) => typeof k === 'number')).toBe(true);
      for (const s of streams) {
        const events = await collect(store.readStream(s));
        expect(events.map((e) => e.id)).toEqual(expected.get(s));
        expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
        expect(verifyChain(events)).toEqual([]);
      }
    });

    it('a group taken back after an append in it started the numbers over: the appends before it keep their streams', async () => {
      const store = openStore({ appendThread: true, appendThreadStreams: 3 });
      const keys = new Map((await store.appendMany(['a', 'b'].map((streamId) => ({ streamId, events: [ev(1)], expectedRevision: NO_STREAM })))).map((r) => [r.streamId, r.streamKey]));
      const bad = ev(9);
      (bad as { type: unknown }).type = null;
      const first = ev(2);
      const settled = await Promise.allSettled([
        store.appendMany([{ streamId: 'a', events: [first], expectedRevision: 0, streamKey: keys.get('a') }]), // a's number from before
        store.appendMany([{ streamId: 'c', events: [ev(3)], expectedRevision: NO_STREAM }, { streamId: 'd', events: [ev(4), bad], expectedRevision: NO_STREAM }]), // starts over, fails
      ]);
      expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
      expect((await collect(store.readStream('a'))).map((e) => e.id)[1]).toBe(first.id);
      expect(await collect(store.readStream('c'))).toEqual([]);
      await store.append('c', [ev(5)], NO_STREAM);
      expect(verifyChain(await collect(store.readStream('a')))).toEqual([]);
    });

    it('stores every kind of data as JSON.stringify gives it on the calling thread (class instances, proxies, null prototypes, dates, odd numbers)', async () => {
      class Money {
        constructor(readonly fen: number) {}
        toJSON() {
          return `${this.fen / 100} 元`;
        }
      }
      const nullProto = Object.assign(Object.create(null) as object, { b: 1, a: 'x' });
      const datas: unknown[] = [
        { plain: 'a"b\\c\n', n: -0, nan: NaN, inf: Infinity, t: true, nil: null, gone: undefined, nested: { list: [1, undefined, 'x', [2]], deep: { z: 1 } } },
        { 2: 'two', 1: 'one', b: 'b', a: 'a' },
        [1, 'x', { y: null }],
        { amount: new Money(12_345) },
        { at: new Date('2026-03-01T00:00:00.000Z') },
        nullProto,
        new Proxy({ p: 1 }, {}),
        'just text',
        42,
        null,
        undefined,
      ];
      const store = openStore({ appendThread: true });
      for (let i = 0; i < datas.length; i++) await store.append(`d${i}`, [{ ...ev(i), data: datas[i] }], NO_STREAM);
      for (let i = 0; i < datas.length; i++) {
        const events = await collect(store.readStream(`d${i}`));
        expect(JSON.stringify(events[0].data)).toBe(JSON.stringify(datas[i]) ?? 'null');
        expect(verifyChain(events)).toEqual([]);
      }
      await expect(store.append('big', [{ ...ev(99), data: { n: 1n } }], NO_STREAM)).rejects.toThrow(TypeError); // as JSON.stringify does
    });

    it('copies the WAL into the database on a checkpoint thread, without the appends waiting for it', async () => {
      // A checkpoint is asked for every 64 * 512 bytes of row text; the append connection would copy only at 128 WAL pages.
      const store = openStore({ appendThread: true, walAutocheckpointPages: 64 });
      const big = (n: number): NewEvent & { id: string } => ({ ...ev(n), data: { n, text: 'x'.repeat(1000) } });
      const before = statSync(file).size;
      for (let i = 0; i < 10; i++) await store.append(`s${i}`, Array.from({ length: 8 }, (_, k) => big(k)), NO_STREAM);
      expect(statSync(`${file}-wal`).size).toBeLessThan(128 * 4096); // below the append connection's own threshold
      const deadline = Date.now() + 10_000;
      while (statSync(file).size <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(statSync(file).size).toBeGreaterThan(before + 40 * 1024);
      await store.close();
      const again = openStore();
      const all = await collect(again.readAll());
      expect(all).toHaveLength(80);
      expect(verifyChain(all.filter((e) => e.streamId === 's3'))).toEqual([]);
    });
  });

  describe('stored metadata', () => {
    /** A fact and an event it derived, with the metadata the write side gives them. */
    function factAndDerived(source: string, recordedAt: string): (NewEvent & { id: string })[] {
      const fact = randomUUID();
      const shared = { recordedAt, schemaVersion: 1 };
      return [
        { id: fact, type: 'Fact', data: { n: 1 }, metadata: { correlationId: fact, causationId: fact, occurredAt: '2026-03-01T10:00:00+08:00', ...shared, upstreamEventId: fact, source } },
        { id: randomUUID(), type: 'Derived', data: { n: 2 }, metadata: { correlationId: fact, causationId: fact, occurredAt: '2026-03-01T10:00:00+08:00', ...shared, upstreamEventId: fact, policyVersion: 1 } },
      ];
    }
    /** The metadata as read back, as JSON text: key order matters, since the hash is over the text. */
    const metadataTexts = (events: StoredEvent[]) => events.map((e) => JSON.stringify({ ...e.metadata, hash: undefined }));
    const rows = (db: Database.Database) => db.prepare('SELECT metadata, metadata_ids, metadata_context FROM events ORDER BY position').raw().all() as [string, number, number][];

    it.each([
      ['on the append thread', true],
      ['on the calling thread', false],
    ])('%s: a row keeps what is its own; the keys that are the id or shared come back in their place, and the chain holds', async (_, appendThread) => {
      const store = openStore({ appendThread });
      const batch1 = factAndDerived('waybill', '2026-11-24T01:00:00.000Z');
      const batch2 = [...factAndDerived('hotline', '2026-11-24T02:00:00.000Z'), ...factAndDerived('waybill', '2026-11-24T02:00:00.000Z')];
      await store.appendMany([{ streamId: 's', events: batch1, expectedRevision: NO_STREAM }]);
      await store.appendMany([{ streamId: 's', events: batch2, expectedRevision: 1 }]);
      const sent = [...batch1, ...batch2];
      const read = await collect(store.readStream('s'));
      expect(metadataTexts(read)).toEqual(sent.map((e) => JSON.stringify(e.metadata)));
      expect(metadataTexts(await collect(store.readAll()))).toEqual(metadataTexts(read));
      expect(verifyChain(read)).toEqual([]);
      await store.close();

      const db = new Database(file, { readonly: true });
      try {
        const [fact, derived] = rows(db);
        // The fact keeps its time and hash; its correlation, causation and upstream id are its own id (bits 0, 1, 5).
        expect(fact).toEqual([JSON.stringify({ occurredAt: '2026-03-01T10:00:00+08:00', hash: read[0].metadata.hash }), 0b100011, 1]);
        expect(JSON.parse(derived[0])).toEqual({ correlationId: batch1[0].id, causationId: batch1[0].id, occurredAt: '2026-03-01T10:00:00+08:00', upstreamEventId: batch1[0].id, policyVersion: 1, hash: read[1].metadata.hash });
        expect(derived.slice(1)).toEqual([0, 2]);
        // One row per set of shared values, written once however many events share it.
        expect(db.prepare('SELECT id, json FROM metadata_contexts ORDER BY id').raw().all()).toEqual([
          [1, '{"recordedAt":"2026-11-24T01:00:00.000Z","schemaVersion":1,"source":"waybill"}'],
          [2, '{"recordedAt":"2026-11-24T01:00:00.000Z","schemaVersion":1}'],
          [3, '{"recordedAt":"2026-11-24T02:00:00.000Z","schemaVersion":1,"source":"hotline"}'],
          [4, '{"recordedAt":"2026-11-24T02:00:00.000Z","schemaVersion":1}'],
          [5, '{"recordedAt":"2026-11-24T02:00:00.000Z","schemaVersion":1,"source":"waybill"}'],
        ]);
        expect(rows(db).map((r) => r[2])).toEqual([1, 2, 3, 4, 5, 4]);
      } finally {
        db.close();
      }
    });

    it('keeps metadata whole when its keys come in another order or it has keys of its own', async () => {
      const store = openStore({ appendThread: true });
      const e = ev(1);
      const reordered = { ...e, metadata: { source: 'x', ...e.metadata } };
      const extra = { ...ev(2), metadata: { ...ev(2).metadata, note: 'by hand' } as EventMetadata };
      await store.appendMany([{ streamId: 's', events: [reordered, extra], expectedRevision: NO_STREAM }]);
      const read = await collect(store.readStream('s'));
      expect(metadataTexts(read)).toEqual([JSON.stringify(reordered.metadata), JSON.stringify(extra.metadata)]);
      expect(verifyChain(read)).toEqual([]);
      await store.close();
      const db = new Database(file, { readonly: true });
      try {
        expect(rows(db).map((r) => [Object.keys(JSON.parse(r[0]) as object).length, r[1], r[2]])).toEqual([[7, 0, 0], [7, 0, 0]]);
      } finally {
        db.close();
      }
    });

    it('a changed shared row, or a changed mark of id keys, breaks the chain of the events that use it', async () => {
      let store = openStore({ appendThread: true });
      await store.appendMany([{ streamId: 's', events: [...factAndDerived('waybill', '2026-11-24T01:00:00.000Z'), ...factAndDerived('waybill', '2026-11-24T01:00:00.000Z')], expectedRevision: NO_STREAM }]);
      await store.close();
      const db = new Database(file);
      try {
        // The derived events' shared row (positions 2 and 4), and the second fact's mark of id keys.
        db.prepare("UPDATE metadata_contexts SET json = replace(json, '01:00:00', '03:00:00') WHERE id = 2").run();
        db.prepare('UPDATE events SET metadata_ids = 0 WHERE position = 3').run();
      } finally {
        db.close();
      }
      store = openStore();
      const breaks = verifyChain(await collect(store.readStream('s')));
      // Each altered event fails its own hash (the next one goes on from the hash recorded).
      expect(breaks.map((b) => [b.kind, b.position])).toEqual([['ALTERED', '2'], ['ALTERED', '3'], ['ALTERED', '4']]);
    });

    it('refuses a file of a newer layout, and leaves it as it was', async () => {
      const store = openStore();
      await store.append('s', evs(1), NO_STREAM);
      await store.close();
      const db = new Database(file);
      db.pragma('user_version = 8');
      db.close();
      expect(() => SqliteEventStore.open(file)).toThrow(/layout version 8 is newer than this code's \(7\)/);
      const check = new Database(file, { readonly: true });
      try {
        expect(check.pragma('user_version', { simple: true })).toBe(8);
        expect(check.prepare('SELECT count(*) FROM events').pluck().get()).toBe(1);
      } finally {
        check.close();
      }
    });

    it('converts a version-5 file: its rows keep their whole metadata and read back as before; new ones are kept in parts', async () => {
      let store = openStore();
      const before = factAndDerived('waybill', '2026-11-24T01:00:00.000Z');
      await store.append('s', before, NO_STREAM);
      await store.close();
      // Back to version 5: the metadata whole in its row, no parts, no shared rows.
      const db = new Database(file);
      try {
        const whole = (await collect(SqliteEventStore.open(file).readStream('s'))).map((e) => JSON.stringify(e.metadata));
        db.exec(BACK_TO_VERSION_6 + 'DROP TABLE metadata_contexts; ALTER TABLE events DROP COLUMN metadata_ids; ALTER TABLE events DROP COLUMN metadata_context; PRAGMA user_version = 5');
        const update = db.prepare('UPDATE events SET metadata = ? WHERE position = ?');
        whole.forEach((m, i) => update.run(m, i + 1));
      } finally {
        db.close();
      }
      store = openStore({ appendThread: true });
      const after = factAndDerived('hotline', '2026-11-24T02:00:00.000Z');
      await store.append('s', after, 1);
      const read = await collect(store.readStream('s'));
      expect(metadataTexts(read)).toEqual([...before, ...after].map((e) => JSON.stringify(e.metadata)));
      expect(verifyChain(read)).toEqual([]);
      await store.close();
      const check = new Database(file, { readonly: true });
      try {
        expect(check.pragma('user_version', { simple: true })).toBe(7);
        expect(rows(check).map((r) => [r[1], r[2]])).toEqual([[0, 0], [0, 0], [0b100011, 1], [0, 2]]);
      } finally {
        check.close();
      }
    });
  });

  it('converts a version-6 file: each link moves from stream_links into its row; a row without one stays in no stream', async () => {
    let store = openStore();
    await store.appendMany([
      { streamId: 's', events: evs(2), expectedRevision: NO_STREAM },
      { streamId: 't', events: evs(1), expectedRevision: NO_STREAM },
      { streamId: 's', events: evs(1), expectedRevision: 1 },
    ]);
    await store.close();
    const db = new Database(file);
    try {
      db.exec(BACK_TO_VERSION_6);
      // A plain INSERT into a version-6 file: no link.
      db.prepare("INSERT INTO events (event_id, stream_id, revision, type, data, metadata) VALUES ('plain', 's', 3, 'Tested', '{}', '{}')").run();
      expect(db.prepare('SELECT position, previous FROM stream_links ORDER BY position').raw().all()).toEqual([[1, null], [2, 1], [3, null], [4, 2]]);
    } finally {
      db.close();
    }
    store = openStore({ appendThread: true });
    expect((await collect(store.readStream('s'))).map((e) => [e.revision, e.position])).toEqual([[0, 1n], [1, 2n], [2, 4n]]);
    expect((await collect(store.eventsOutsideStreams())).map((e) => e.id)).toEqual(['plain']);
    expect(await store.append('s', evs(1), 2)).toMatchObject({ nextExpectedRevision: 3, position: 6n });
    await store.close();
    const check = new Database(file, { readonly: true });
    try {
      expect(check.pragma('user_version', { simple: true })).toBe(7);
      expect(check.prepare("SELECT name FROM sqlite_schema WHERE name = 'stream_links'").all()).toEqual([]);
      expect(check.prepare('SELECT position, previous FROM events ORDER BY position').raw().all()).toEqual([[1, 0], [2, 1], [3, 0], [4, 2], [5, null], [6, 4]]);
    } finally {
      check.close();
    }
  });

  describe('listStreams', () => {
    it('pages through more than 1,000 streams', async () => {
      const store = openStore();
      const ids = Array.from({ length: 2345 }, (_, i) => `customer-${String(i).padStart(5, '0')}`);
      await store.appendMany(ids.map((streamId) => ({ streamId, events: evs(2), expectedRevision: NO_STREAM })));
      await store.append('customers', evs(1), NO_STREAM); // shares the text prefix 'customer', not 'customer-'
      const listed: string[] = [];
      for await (const id of store.listStreams('customer-')) listed.push(id);
      expect(listed).toEqual(ids);
      const all: string[] = [];
      for await (const id of store.listStreams('')) all.push(id);
      expect(all).toEqual([...ids, 'customers']);
    });
  });

  describe('two stores on the same file (same process)', () => {
    it('detects a conflicting append from the second store via the expected revision', async () => {
      const one = openStore();
      const two = openStore();
      const r = await one.append('customer-1', evs(2), NO_STREAM);
      expect(await two.streamRevision('customer-1')).toBe(1);

      // Both decided on revision 1; the first to append wins.
      await two.append('customer-1', evs(1), r.nextExpectedRevision);
      await expect(one.append('customer-1', evs(1), r.nextExpectedRevision)).rejects.toMatchObject({
        name: 'WrongExpectedVersionError',
        expected: 1,
        actual: 2,
      });
      await expect(one.append('customer-1', evs(1), NO_STREAM)).rejects.toBeInstanceOf(WrongExpectedVersionError);
      expect((await collect(one.readStream('customer-1'))).map((e) => e.revision)).toEqual([0, 1, 2]);

      // Duplicate ids are caught across stores too.
      const e = ev(9);
      await one.append('customer-2', [e], NO_STREAM);
      await expect(two.append('customer-3', [e], NO_STREAM)).rejects.toBeInstanceOf(DuplicateEventIdError);
    });

    it("a subscription on one store receives the other's appends at once (no poll wait)", async () => {
      const one = openStore({ pollIntervalMs: 60_000 });
      const two = openStore({ pollIntervalMs: 60_000 });
      const sub = two.subscribeToAll();
      const it = sub[Symbol.asyncIterator]();
      const pending = nextWithin(it, 2000);
      await new Promise((r) => setTimeout(r, 20));
      await one.append('s', evs(1), NO_STREAM);
      const got = await pending;
      expect(got).not.toBe('timeout');
      expect((got as IteratorResult<StoredEvent>).value?.streamId).toBe('s');
      await sub.close();
    });

    it('interleaved appends from both stores keep every stream gapless', async () => {
      const stores = [openStore(), openStore()];
      const revisions = new Map<string, number>();
      for (let i = 0; i < 200; i++) {
        const store = stores[i % 2];
        const streamId = `s${i % 7}`;
        const expected = revisions.get(streamId) ?? NO_STREAM;
        const r = await store.append(streamId, evs(1 + (i % 3)), expected);
        revisions.set(streamId, r.nextExpectedRevision);
      }
      const all = await collect(stores[1].readAll());
      for (let i = 1; i < all.length; i++) expect(all[i].position).toBe(all[i - 1].position + 1n);
      for (const [streamId, revision] of revisions) {
        const events = await collect(stores[0].readStream(streamId));
        expect(events.map((e) => e.revision)).toEqual(Array.from({ length: revision + 1 }, (_, k) => k));
      }
    });
  });

  describe('another process writing the same file', () => {
    it('waits for its write lock, then sees its event when checking the expected revision', async () => {
      const store = openStore();
      await store.append('init', evs(1), NO_STREAM); // creates the schema
      const other = otherProcessAppend(file, 'customer-9', 0, 300);
      await other.locked;
      const started = Date.now();
      // Decided while the other process held the lock: the stream did not exist yet.
      await expect(store.append('customer-9', evs(1), NO_STREAM)).rejects.toMatchObject({
        name: 'WrongExpectedVersionError',
        actual: 0,
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(100); // it waited on busy_timeout
      expect(await other.exited).toBe(0);
      const r = await store.append('customer-9', evs(1), 0);
      expect(r.nextExpectedRevision).toBe(1);
    }, 15_000);

    it('a caught-up subscription sees its appends by polling', async () => {
      const store = openStore({ pollIntervalMs: 50 });
      await store.append('init', evs(1), NO_STREAM);
      const sub = store.subscribeToAll({ fromPosition: 1n });
      const it = sub[Symbol.asyncIterator]();
      try {
        const pending = nextWithin(it, 5000);
        const other = otherProcessAppend(file, 'customer-7', 0, 0);
        expect(await other.exited).toBe(0);
        const got = await pending;
        expect(got).not.toBe('timeout');
        const e = (got as IteratorResult<StoredEvent>).value;
        expect([e.streamId, e.revision, e.type, e.data, e.position]).toEqual([
          'customer-7',
          0,
          'FromOtherProcess',
          { other: true },
          2n,
        ]);
      } finally {
        await sub.close();
      }
    }, 15_000);
  });

  describe('event id index (in memory)', () => {
    it('creates no SQLite index on event_id', () => {
      openStore();
      const db = new Database(file, { readonly: true });
      try {
        const indexed = db
          .prepare("SELECT ii.name FROM pragma_index_list('events') il, pragma_index_info(il.name) ii")
          .pluck()
          .all();
        expect(indexed).not.toContain('event_id');
      } finally {
        db.close();
      }
    });

    it.each([
      ['in the calling thread', false],
      ['on the append thread', true],
    ])('finds ids recorded before it was opened, and keeps a failed append out of the index (%s)', async (_name, appendThread) => {
      let store = openStore({ appendThread });
      const [a, b, c] = evs(3);
      await store.append('s', [a, b], NO_STREAM);
      await store.close();
      store = openStore({ appendThread });
      expect(await store.existingEventIds([a.id, c.id])).toEqual(new Set([a.id]));
      // Rejected (wrong expected revision): c was not recorded and can be appended afterwards.
      await expect(store.append('s', [c], NO_STREAM)).rejects.toBeInstanceOf(WrongExpectedVersionError);
      expect(await store.existingEventIds([c.id])).toEqual(new Set());
      await store.append('s', [c], 1);
      expect(await store.existingEventIds([a.id, b.id, c.id])).toEqual(new Set([a.id, b.id, c.id]));
      // A duplicate within one batch.
      const d = ev(4);
      await expect(store.append('t', [d, d], NO_STREAM)).rejects.toBeInstanceOf(DuplicateEventIdError);
      expect(await store.existingEventIds([d.id])).toEqual(new Set());
      expect(await store.headPosition()).toBe(3n);
    });

    it('on the append thread, refuses an id of an append queued before it, and frees the ids of a refused one', async () => {
      const store = openStore({ appendThread: true });
      const [a, b, c] = evs(3);
      const first = store.append('p', [a], NO_STREAM);
      const second = store.append('q', [b, a], NO_STREAM); // queued behind the first, not yet recorded
      const third = store.append('r', [c], 5); // a wrong expected revision
      await first;
      await expect(second).rejects.toBeInstanceOf(DuplicateEventIdError);
      await expect(third).rejects.toBeInstanceOf(WrongExpectedVersionError);
      // b and c were taken out of the index with the appends that were refused.
      await store.append('q', [b], NO_STREAM);
      await store.append('r', [c], NO_STREAM);
      expect(await store.existingEventIds([a.id, b.id, c.id])).toEqual(new Set([a.id, b.id, c.id]));
      expect((await collect(store.readAll())).map((e) => e.id)).toEqual([a.id, b.id, c.id]);
    });

    it('on the append thread, answers existingEventIds after the appends asked for before it: their ids if they were recorded', async () => {
      const store = openStore({ appendThread: true });
      const [a, b, c] = evs(3);
      await store.append('p', [a], NO_STREAM); // the thread runs and has its index
      const recorded = store.append('q', [b], NO_STREAM);
      const refused = store.append('r', [c], 7); // a wrong expected revision
      const refusedOutcome = refused.catch((err: unknown) => err);
      // Asked while both appends are still on their way: not yet in the file, yet reported (reportsPendingEventIds).
      expect(await store.existingEventIds([a.id, b.id, c.id])).toEqual(new Set([a.id, b.id]));
      await recorded;
      expect(await refusedOutcome).toBeInstanceOf(WrongExpectedVersionError);
      // A store opened next to it reads the file itself, and agrees.
      const other = openStore();
      expect(await other.existingEventIds([a.id, b.id, c.id])).toEqual(new Set([a.id, b.id]));
      await other.close();
    });

    it.each([
      ['in the calling thread', false],
      ['on the append thread', true],
    ])('sees an id appended by another process while it waited for the write lock (%s)', async (_name, appendThread) => {
      const store = openStore({ appendThread });
      await store.append('init', evs(1), NO_STREAM); // loads the index
      const id = randomUUID();
      const other = otherProcessAppend(file, 'customer-5', 0, 300, id);
      await other.locked;
      const e = { ...ev(1), id };
      await expect(store.append('customer-6', [e], NO_STREAM)).rejects.toBeInstanceOf(DuplicateEventIdError);
      expect(await other.exited).toBe(0);
      expect(await store.existingEventIds([id])).toEqual(new Set([id]));
      expect(await store.headPosition()).toBe(2n);
    }, 15_000);

    it.each([
      ['UNIQUE(event_id) and UNIQUE(stream_id, revision)', 'event_id TEXT NOT NULL UNIQUE'],
      ['UNIQUE(stream_id, revision)', 'event_id TEXT NOT NULL'],
    ])('converts a file of the earlier layout with %s, keeping its events, streams and positions', async (_, eventIdColumn) => {
      mkdirSync(join(dir, 'a', 'b'), { recursive: true });
      const db = new Database(file);
      db.exec(`CREATE TABLE events (
        position  INTEGER PRIMARY KEY AUTOINCREMENT,
        ${eventIdColumn},
        stream_id TEXT NOT NULL,
        revision  INTEGER NOT NULL,
        type      TEXT NOT NULL,
        data      TEXT NOT NULL,
        metadata  TEXT NOT NULL,
        UNIQUE (stream_id, revision)
      )`);
      const insert = db.prepare('INSERT INTO events (event_id, stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
      const old = [...evs(5)];
      // s: 0, 1, 2 and t: 0, 1, interleaved; then a sixth row deleted from the end (its position must not come back).
      [['s', 0], ['t', 0], ['s', 1], ['s', 2], ['t', 1]].forEach(([stream, revision], i) =>
        insert.run(old[i].id, stream, revision, old[i].type, JSON.stringify(old[i].data), JSON.stringify(old[i].metadata)),
      );
      insert.run(randomUUID(), 'u', 0, 'Gone', '{}', '{}');
      db.exec('DELETE FROM events WHERE position = 6');
      db.close();

      const store = openStore();
      expect((await collect(store.readStream('s'))).map((e) => [e.revision, e.position, e.id])).toEqual([
        [0, 1n, old[0].id],
        [1, 3n, old[2].id],
        [2, 4n, old[3].id],
      ]);
      expect((await collect(store.readStream('t', { fromRevision: 1 }))).map((e) => e.id)).toEqual([old[4].id]);
      expect(await store.streamRevision('s')).toBe(2);
      expect(await collect(store.listStreams(''))).toEqual(['s', 't']);
      // Ids stay unique without the old index; appends go on from the stream heads and after the highest position.
      await expect(store.append('t', [old[0]], 1)).rejects.toBeInstanceOf(DuplicateEventIdError);
      await expect(store.append('t', evs(1), 0)).rejects.toBeInstanceOf(WrongExpectedVersionError);
      const r = await store.append('t', evs(1), 1);
      expect(r).toEqual({ streamId: 't', nextExpectedRevision: 2, position: 7n });
      expect((await collect(store.readStream('t'))).map((e) => e.revision)).toEqual([0, 1, 2]);
      await store.close();

      const check = new Database(file, { readonly: true });
      try {
        expect(check.pragma('user_version', { simple: true })).toBe(7);
        expect(check.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events'").pluck().all()).toEqual([]);
        expect(check.prepare('SELECT position, previous FROM events ORDER BY position').raw().all()).toEqual([[1, 0], [2, 0], [3, 1], [4, 3], [5, 2], [7, 5]]);
        expect(check.prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger'").pluck().all()).toEqual([]);
        expect(check.prepare(HEADS_BY_NAME).raw().all()).toEqual([['s', 1, 2, 4], ['t', 2, 2, 7]]);
      } finally {
        check.close();
      }
    });

    it.each([
      [2, ''],
      [3, 'WHEN NOT EXISTS (SELECT 1 FROM stream_links WHERE position = NEW.position)'],
      [4, ''],
    ])('converts a version-%i file (2 and 3: whose trigger kept the links), keeping its streams; heads go by key, no trigger is left', async (version, when) => {
      mkdirSync(join(dir, 'a', 'b'), { recursive: true });
      const db = new Database(file);
      // The layout as it was created: the same tables, and a trigger that linked the rows (version 3: those without a link).
      db.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, stream_id TEXT NOT NULL,
          revision INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL);
        CREATE TABLE streams (stream_id TEXT PRIMARY KEY, revision INTEGER NOT NULL, position INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE stream_links (position INTEGER PRIMARY KEY, previous INTEGER);
        CREATE TRIGGER events_continue_stream AFTER INSERT ON events ${when} BEGIN
          INSERT INTO stream_links (position, previous)
            SELECT NEW.position, CASE WHEN NEW.revision = coalesce(h.revision, -1) + 1 THEN h.position ELSE RAISE(ABORT, 'event revision does not continue its stream') END
            FROM (SELECT 1) LEFT JOIN streams h ON h.stream_id = NEW.stream_id;
          INSERT INTO streams (stream_id, revision, position) VALUES (NEW.stream_id, NEW.revision, NEW.position)
            ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision, position = excluded.position;
        END;
        PRAGMA user_version = ${version};`);
      const insert = db.prepare('INSERT INTO events (event_id, stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
      const old = [...evs(3)];
      [['s', 0], ['t', 0], ['s', 1]].forEach(([stream, revision], i) =>
        insert.run(old[i].id, stream, revision, old[i].type, JSON.stringify(old[i].data), JSON.stringify(old[i].metadata)),
      );
      if (version === 4) db.exec('DROP TRIGGER events_continue_stream'); // the links and heads it wrote are what a version-4 store writes
      db.close();

      const store = openStore();
      expect(await store.streamRevision('s')).toBe(1);
      const r = await store.appendMany([
        { streamId: 's', events: evs(2), expectedRevision: 1 },
        { streamId: 'u', events: evs(1), expectedRevision: NO_STREAM },
        { streamId: 's', events: evs(1), expectedRevision: 3 },
      ]);
      expect(r.map((x) => [x.streamId, x.nextExpectedRevision, x.position])).toEqual([['s', 3, 5n], ['u', 0, 6n], ['s', 4, 7n]]);
      expect((await collect(store.readStream('s'))).map((e) => [e.revision, e.position])).toEqual([[0, 1n], [1, 3n], [2, 4n], [3, 5n], [4, 7n]]);
      expect((await collect(store.readStream('s', { fromRevision: 3 }))).map((e) => e.position)).toEqual([5n, 7n]);
      expect(await collect(store.listStreams(''))).toEqual(['s', 't', 'u']);
      await store.close();

      const check = new Database(file, { readonly: true });
      try {
        expect(check.pragma('user_version', { simple: true })).toBe(7);
        expect(check.prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger'").pluck().all()).toEqual([]);
        expect(check.prepare('SELECT position, previous FROM events ORDER BY position').raw().all()).toEqual([
          [1, 0], [2, 0], [3, 1], [4, 3], [5, 4], [6, 0], [7, 5],
        ]);
        expect(check.prepare(HEADS_BY_NAME).raw().all()).toEqual([['s', 1, 4, 7], ['t', 2, 0, 2], ['u', 3, 0, 6]]);
      } finally {
        check.close();
      }
    });

    it('names the rows written behind it into no stream: without a link, or linked where no head reaches them', async () => {
      const store = openStore();
      await store.append('s', evs(2), NO_STREAM);
      await store.append('t', evs(1), NO_STREAM);
      expect(await collect(store.eventsOutsideStreams())).toEqual([]);
      const db = new Database(file);
      try {
        // A plain INSERT, as SQLite takes it: no link, the head stays.
        insertBehindTheStore(db, { eventId: 'plain', stream: 's', revision: 2, type: 'Tested', data: '{}', metadata: '{}' });
      } finally {
        db.close();
      }
      expect(await store.streamRevision('s')).toBe(1);
      expect((await collect(store.readStream('s'))).map((e) => e.revision)).toEqual([0, 1]);
      expect((await collect(store.eventsOutsideStreams())).map((e) => [e.id, e.streamId, e.revision, e.position])).toEqual([['plain', 's', 2, 4n]]);

      // A row with a link to the head of t, but t's head not moved: linked, and still in no stream. A row deleted by
      // hand is not named (verify reports the gap it leaves).
      const again = new Database(file);
      try {
        insertBehindTheStore(again, { position: 5, eventId: 'linked', stream: 't', revision: 1, type: 'Tested', data: '{}', metadata: '{}', previous: 3 });
        again.prepare('DELETE FROM events WHERE position = 1').run();
      } finally {
        again.close();
      }
      expect((await collect(store.eventsOutsideStreams())).map((e) => e.id)).toEqual(['plain', 'linked']);
      // Positions far apart (looked up in a map, not a table by position): the same.
      const far = new Database(file);
      try {
        insertBehindTheStore(far, { position: 100000, eventId: 'far', stream: 'u', revision: 0, type: 'Other', data: '{}', metadata: '{}' });
      } finally {
        far.close();
      }
      const outside = await collect(store.eventsOutsideStreams());
      expect(outside.map((e) => e.id)).toEqual(['plain', 'linked', 'far']);
      expect(outside.map((e) => [e.streamId, e.type])).toEqual([['s', 'Tested'], ['t', 'Tested'], ['u', 'Other']]);
      expect((await collect(store.readStream('t'))).map((e) => e.position)).toEqual([3n]);
      // The stream only that row named has a key but no head: no stream yet, and an append starts it under that key.
      expect(await collect(store.listStreams(''))).toEqual(['s', 't']);
      expect(await store.append('u', evs(1), NO_STREAM)).toMatchObject({ nextExpectedRevision: 0, position: 100001n });
      expect((await collect(store.readStream('u'))).map((e) => e.position)).toEqual([100001n]);
      expect(await collect(store.listStreams(''))).toEqual(['s', 't', 'u']);
    });
  });

  describe('reopen', () => {
    it('keeps positions growing and never reuses them', async () => {
      let store = openStore();
      await store.append('s', evs(3), NO_STREAM);
      await store.close();
      store = openStore();
      const r = await store.append('t', evs(1), NO_STREAM);
      expect(r.position).toBe(4n);
      expect((await collect(store.readAll({ fromPosition: 2n }))).map((e) => e.position)).toEqual([3n, 4n]);
    });
  });
});
