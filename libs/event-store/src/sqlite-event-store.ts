import { mkdirSync } from 'fs';
import { dirname, resolve } from 'path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'worker_threads';
import Database from 'better-sqlite3';
import { makeUuidWords, type EventMetadata } from '@crm/contracts';
import {
  START,
  WrongExpectedVersionError,
  type AppendRequest,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type Position,
  type ReadAllOptions,
  type ReplayedEvent,
  type StoredEvent,
  type Subscription,
} from './port';
import { defineEventIdSet, EventIdSet } from './event-id-set';
import { chainCrypto, chainHash, withHash } from './hash-chain';
import { DERIVED_ID_NAMESPACE, eventIdOf, makeV5OfName, v5Name } from './derived-id';

/** Options of SqliteEventStore.open (see the class comment for durability and throughput). */
export interface SqliteEventStoreOptions {
  /** Default 'NORMAL' (durability: see the class comment). */
  synchronous?: 'NORMAL' | 'FULL';
  /** Wait this long for the write lock held by another connection. Default 5,000 ms. */
  busyTimeoutMs?: number;
  /** Rows read per query by readStream / readAll / subscriptions. Default 1,000 (measured: as fast as 5,000, less memory). */
  pageSize?: number;
  /** A caught-up subscription re-checks the file this often (appends by other connections/processes). Default 200 ms. */
  pollIntervalMs?: number;
  /** SQLite page cache in KiB. Default 65,536 (64 MiB). */
  cacheSizeKiB?: number;
  /**
   * WAL pages after which a commit checkpoints the WAL into the database. Default 65,536 (256 MiB with 4 KiB
   * pages; SQLite's default is 1,000): index pages rewritten by many commits are copied to the database once
   * per checkpoint instead of ~once per commit. Measured on 1M appends: 1,000 -> 25k events/s, 16,384 -> 38k,
   * 100,000 -> 53k. The WAL file is kept at up to this size after a checkpoint (journal_size_limit), so the next
   * round of commits rewrites pages the OS has cached instead of growing the file again. With `appendThread`, a
   * checkpoint thread copies the WAL into the database in the background about every sixteenth of this (estimated
   * from the rows appended), so that appends do not wait for the copy and its fsyncs (measured: 8 waits of ~260 ms
   * per 1M events), and the append connection checkpoints itself at half this, which finds little left to copy and
   * lets its next commit start the WAL from its beginning again. (A WAL that the background copies alone never
   * restart grows to the append connection's checkpoint, and every frame written past the old end of the file
   * costs the kernel a fresh page, zeroed: measured on a 1M-line import, system time 3.7-6.0 s with the append
   * connection at twice this, 2.7-3.5 s at half; the append thread -0.4 to -1.3 s in 4 alternating pairs.)
   */
  walAutocheckpointPages?: number;
  /** Memory-map this many bytes of the file for reads. Default 256 MiB; 0 turns it off. */
  mmapSizeBytes?: number;
  /**
   * Run the inserts and commits of `append`/`appendMany` on a worker thread with its own connection to the
   * file, so the caller can go on (e.g. decide the next ingest batch) while SQLite writes. Default false;
   * ignored for in-memory stores. The synchronous methods (`appendManySync`, `appendSerializedSync`) still
   * write on the calling thread. See the class comment ("Append thread").
   */
  appendThread?: boolean;
  /**
   * Streams the append thread knows by number (AppendResult.streamKey) before the numbers start over. Default 100,000:
   * ~250 bytes a stream on that thread (its name and head), ~100 on the calling thread.
   */
  appendThreadStreams?: number;
  /**
   * `readAllPages` reads on a worker thread (its own connection) when at least this many positions lie ahead
   * (a replay of the store): SQLite and the text of the rows then cost the reading thread nothing. Default
   * 100,000 (starting the thread costs about what reading 20,000 events does); ignored for in-memory stores.
   */
  replayThreadMinEvents?: number;
}

/** A NewEvent whose `data` and `metadata` are already JSON text. */
export interface SerializedEvent {
  id: string;
  type: string;
  /** JSON text of the event data. */
  data: string;
  /** JSON text of the EventMetadata, without `hash` (the store adds it). */
  metadata: string;
}

export interface SerializedAppendRequest {
  streamId: string;
  events: SerializedEvent[];
  expectedRevision: ExpectedRevision;
}

/** An event id that is already recorded (or appears twice in one append). Nothing of the append was written. */
export class DuplicateEventIdError extends Error {
  constructor(readonly eventIds: readonly string[]) {
    super(`duplicate event id(s): ${eventIds.slice(0, 10).join(', ')}${eventIds.length > 10 ? ', ...' : ''}`);
    this.name = 'DuplicateEventIdError';
  }
}

/** [position, event_id, stream name, revision, type name, data, metadata, metadata_ids, metadata_context] (COLUMNS) */
type Row = [number, string, string, number, string, string, string, number, number];

/**
 * Events of queued appends that the append thread commits in one transaction (see its message handler). Measured on
 * the 1M-line import (2,700-event appends, then two in flight), 4 alternating rounds against grouping whatever queued: wall
 * -0.66, -0.47, -1.91, -0.70 s; idle core time (twice the wall time less the CPU time) 2.3 s against 3.0 s.
 */
const GROUP_EVENTS = 1000;

/** Rows per multi-row INSERT statement (fewer statement executions; ~15% faster appends than row by row). */
const INSERT_CHUNK = 32;

/**
 * An append writes its rows, INSERT_CHUNK per statement, each with its link, and at the end each stream's new head
 * (rowWriter). The positions go on from NEXT_POSITION: under the write lock nothing else takes
 * them, and AUTOINCREMENT keeps `seq` at or above every position ever used.
 */
const NEXT_POSITION = "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) + 1";
const values = (rows: number, row: string) => new Array<string>(rows).fill(row).join(', ');

/** The statements a rowWriter runs, each for one row (or head) and for `chunk` of them. */
interface RowStatements {
  row: Database.Statement<unknown[]>;
  rows: Database.Statement<unknown[]>;
  head: Database.Statement<unknown[]>;
  heads: Database.Statement<unknown[]>;
  /** A stream's key by its name (also of a stream without a head: a row written behind the store may name one). */
  streamKey: Database.Statement<unknown[], number>;
  /** Names a new stream's key. */
  name: Database.Statement<unknown[]>;
  /** The key after every stream's. */
  nextKey: Database.Statement<unknown[], number>;
  /** An event type's key by its name, and a new type. */
  typeKey: Database.Statement<unknown[], number>;
  newType: Database.Statement<unknown[]>;
}

function prepareRowStatements(db: Database.Database, chunk: number): RowStatements {
  const events = (n: number) =>
    'INSERT INTO events (position, event_id, stream_key, revision, type_key, data, metadata, metadata_ids, metadata_context, previous) VALUES ' +
    values(n, '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const heads = (n: number) =>
    `INSERT INTO stream_heads (id, revision, position) VALUES ${values(n, '(?, ?, ?)')}
     ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, position = excluded.position`;
  return {
    row: db.prepare(events(1)),
    rows: db.prepare(events(chunk)),
    head: db.prepare(heads(1)),
    heads: db.prepare(heads(chunk)),
    streamKey: db.prepare<unknown[], number>('SELECT id FROM streams WHERE stream_id = ?').pluck(),
    name: db.prepare('INSERT INTO streams (stream_id, id) VALUES (?, ?)'),
    nextKey: db.prepare<unknown[], number>('SELECT coalesce(max(id), 0) + 1 FROM streams').pluck(),
    typeKey: db.prepare<unknown[], number>('SELECT id FROM event_types WHERE name = ?').pluck(),
    newType: db.prepare('INSERT INTO event_types (name) VALUES (?)'),
  };
}

/**
 * Writes one append's rows, `chunk` per statement, and then its streams' heads (a stream's last one winning) by the
 * streams' keys. A row names its stream and type by key: `stream` gives a stream's key (0: not known yet, looked up
 * by name or made), `type` a type's (`types`: the connection's keys by name, which the caller empties when a
 * transaction is rolled back). `link` is the position of the event before in its stream, 0 for a stream's first (the
 * row's `previous`). One per append: both the calling thread and the append thread use it (written without outside
 * names, so the append thread runs it from its source text).
 */
function rowWriter(st: RowStatements, chunk: number, types: Map<string, number>) {
  const params: unknown[] = new Array(chunk * 10).fill(null);
  const heads: number[] = [];
  let p = 0;
  let nextKey = 0;
  return {
    stream(streamId: string, key: number): number {
      if (key !== 0) return key;
      const known = st.streamKey.get(streamId);
      if (known !== undefined) return known;
      if (nextKey === 0) nextKey = st.nextKey.get() as number;
      st.name.run(streamId, nextKey);
      return nextKey++;
    },
    type(name: string): number {
      let key = types.get(name);
      if (key === undefined) {
        key = st.typeKey.get(name) ?? Number(st.newType.run(name).lastInsertRowid);
        types.set(name, key);
      }
      return key;
    },
    row(position: number, link: number, id: string, streamKey: number, revision: number, typeKey: number, data: string, metadata: string, idKeys: number, context: number): void {
      params[p++] = position;
      params[p++] = id;
      params[p++] = streamKey;
      params[p++] = revision;
      params[p++] = typeKey;
      params[p++] = data;
      params[p++] = metadata;
      params[p++] = idKeys;
      params[p++] = context;
      params[p++] = link;
      if (p === params.length) {
        // Spread, not the array: better-sqlite3 reads an array argument element by element through the V8 API
        // (~0.3 us more per row of 9 values; measured 15-20% faster inserts of 32-row chunks).
        st.rows.run(...params);
        p = 0;
      }
    },
    head(key: number, revision: number, position: number): void {
      heads.push(key, revision, position);
    },
    finish(): void {
      for (let q = 0; q < p; q += 10) {
        st.row.run(params[q], params[q + 1], params[q + 2], params[q + 3], params[q + 4], params[q + 5], params[q + 6], params[q + 7], params[q + 8], params[q + 9]);
      }
      // In key order: the upserts then walk the table's pages in order (measured alone: 1,792 heads of 20k per append,
      // 1.2-1.4 ms against 4.4 ms in the order of the requests; on a 1M-line import the append thread -0.18 s on
      // average in 3 alternating pairs). Stable: a stream's later head stays after its earlier one.
      const order: number[] = [];
      for (let k = 0; k < heads.length; k += 3) order.push(k);
      order.sort((a, b) => heads[a] - heads[b]);
      const sorted: number[] = [];
      for (const k of order) sorted.push(heads[k], heads[k + 1], heads[k + 2]);
      const whole = sorted.length - (sorted.length % (3 * chunk));
      for (let k = 0; k < whole; k += 3 * chunk) st.heads.run(...sorted.slice(k, k + 3 * chunk));
      for (let k = whole; k < sorted.length; k += 3) st.head.run(sorted[k], sorted[k + 1], sorted[k + 2]);
    },
  };
}

/** Stream ids read per query by listStreams. */
const STREAM_PAGE = 1000;

/**
 * The rows with their stream's and type's names (a row keeps their keys). Left joins: a row written behind the store
 * with a key that names nothing is still read (as '#' and the key), and the rows drive the join.
 */
const EVENTS = 'events e LEFT JOIN streams s ON s.id = e.stream_key LEFT JOIN event_types t ON t.id = e.type_key';
const STREAM_NAME = "coalesce(s.stream_id, '#' || e.stream_key)";
const TYPE_NAME = "coalesce(t.name, '#' || e.type_key)";
const COLUMNS = `e.position, e.event_id, ${STREAM_NAME}, e.revision, ${TYPE_NAME}, e.data, e.metadata, e.metadata_ids, e.metadata_context`;
/** Rows after a position, in position order: all streams, or those whose id starts with a prefix. */
const READ_ALL = `SELECT ${COLUMNS} FROM ${EVENTS} WHERE e.position > ? ORDER BY e.position LIMIT ?`;
const READ_ALL_PREFIX = `SELECT ${COLUMNS} FROM ${EVENTS} WHERE e.position > ? AND substr(s.stream_id, 1, ?) = ? ORDER BY e.position LIMIT ?`;
/**
 * The replay thread's rows: without the event id, which a replay does not give (measured: ~10% of the reading), and
 * with the stream's and type's keys, which it names itself once each (the joins made a replay ~17% slower).
 */
const READ_REPLAY_KEYS = 'SELECT position, stream_key, revision, type_key, data, metadata FROM events WHERE position > ? ORDER BY position LIMIT ?'; // occurredAt is always the row's own

/** Version of the file layout below, kept in `PRAGMA user_version` (0: a file of an earlier layout, or a new one). */
const SCHEMA_VERSION = 7;

/** `events` as schema 6 had it (a file of an earlier layout is brought to it first, see ensureSchema). */
const EVENTS_TABLE_6 = (name: string) => `
CREATE TABLE ${name} (
  position  INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id  TEXT NOT NULL,
  stream_id TEXT NOT NULL,
  revision  INTEGER NOT NULL,
  type      TEXT NOT NULL,
  data      TEXT NOT NULL,
  metadata  TEXT NOT NULL,
  metadata_ids     INTEGER NOT NULL DEFAULT 0,
  metadata_context INTEGER NOT NULL DEFAULT 0
);`;

/**
 * Schema 7: a row names its stream and type by key (`streams.id`, `event_types.id`), and links to the event before
 * it in its stream (`previous`: its position, 0 for a stream's first; NULL for a row without a link, written behind
 * the store).
 */
const EVENTS_TABLE = (name: string) => `
CREATE TABLE ${name} (
  position   INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id   TEXT NOT NULL,
  stream_key INTEGER NOT NULL,
  revision   INTEGER NOT NULL,
  type_key   INTEGER NOT NULL,
  data       TEXT NOT NULL,
  metadata   TEXT NOT NULL,
  metadata_ids     INTEGER NOT NULL DEFAULT 0,
  metadata_context INTEGER NOT NULL DEFAULT 0,
  previous   INTEGER
);`;

/**
 * Schema 6: a row keeps only the metadata that is its own (see "Stored metadata" in the class comment); the keys
 * an append's events share are one row here, and `metadata_ids` marks the keys that are the event's id.
 */
const METADATA_CONTEXTS = `
CREATE TABLE metadata_contexts (
  id   INTEGER PRIMARY KEY,
  json TEXT NOT NULL
);`;
/** Schema 5 into 6: its rows keep their whole metadata (ids and context 0), which reads the same. */
const METADATA_PARTS = `
ALTER TABLE events ADD COLUMN metadata_ids INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN metadata_context INTEGER NOT NULL DEFAULT 0;
${METADATA_CONTEXTS}`;

/**
 * Each stream's key and head (see the class comment), and in schema 6 the links. The heads are a table of their own,
 * by integer key: nearly every append changes a head on most of its pages. Measured (600k head updates over 20k
 * streams in 500 commits): by key 0.94-1.02 s and 136 MB of WAL; upserted by name into one table (schema 4)
 * 1.71-1.75 s and 277 MB.
 */
const STREAM_TABLES_6 = `
CREATE TABLE streams (
  stream_id TEXT PRIMARY KEY,
  id        INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE stream_heads (
  id       INTEGER PRIMARY KEY,
  revision INTEGER NOT NULL,
  position INTEGER NOT NULL
);
CREATE TABLE stream_links (
  position INTEGER PRIMARY KEY,
  previous INTEGER
);`;

/** Schema 7's names by key: a stream's (an index of `streams`, which reading joins through) and a type's. */
const KEY_TABLES = `
CREATE UNIQUE INDEX streams_by_key ON streams (id);
CREATE TABLE event_types (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);`;

/**
 * Schema 6 into 7: the table is copied with each row's stream and type by key (a stream that a row written behind
 * the store named and no append did gets a key too) and its link from `stream_links` (dropped). An append then inserts
 * one row per event instead of two, and no names. Measured on a 1M-line import, in pairs in ABBA order: the links in
 * the rows, 6 pairs (a slow phase of the host): wall -2.70, -1.30, +0.54, -0.84, -0.66, -1.01 s, the append thread
 * less CPU in 5 of 6 (the file 543 -> 533 MB); then the keys, 10 pairs: -1.26, +0.17, +0.02, +0.32, -0.06, -0.55,
 * -1.01, -0.34, -0.09, -0.39 s (median -0.2 s), the append thread less CPU in 9 of 10, the file 533 -> 489 MB. Reading
 * joins the names back (readAll ~8% slower; the replay thread names the keys itself). Converting a 1.34M-event file
 * takes ~7 s once, and the old table's pages stay in the file as free pages (~1 GB) until a `VACUUM`.
 */
const KEYS_INTO_ROWS = `
${KEY_TABLES}
INSERT INTO streams (stream_id, id)
  SELECT stream_id, (SELECT coalesce(max(id), 0) FROM streams) + row_number() OVER (ORDER BY stream_id)
  FROM (SELECT DISTINCT stream_id FROM events WHERE stream_id NOT IN (SELECT stream_id FROM streams));
INSERT INTO event_types (name) SELECT DISTINCT type FROM events ORDER BY type;
${EVENTS_TABLE('events_keyed')}
INSERT INTO events_keyed (position, event_id, stream_key, revision, type_key, data, metadata, metadata_ids, metadata_context, previous)
  SELECT e.position, e.event_id, s.id, e.revision, t.id, e.data, e.metadata, e.metadata_ids, e.metadata_context,
    CASE WHEN l.position IS NULL THEN NULL ELSE coalesce(l.previous, 0) END
  FROM events e JOIN streams s ON s.stream_id = e.stream_id JOIN event_types t ON t.name = e.type LEFT JOIN stream_links l ON l.position = e.position
  ORDER BY e.position;
DROP TABLE events;
DROP TABLE stream_links;
ALTER TABLE events_keyed RENAME TO events;`;

/** Schema 4's streams (name, revision, position) into schema 5's names and keyed heads, keys in name order. */
const STREAMS_BY_KEY = `
CREATE TABLE stream_heads (
  id       INTEGER PRIMARY KEY,
  revision INTEGER NOT NULL,
  position INTEGER NOT NULL
);
INSERT INTO stream_heads (id, revision, position) SELECT row_number() OVER (ORDER BY stream_id), revision, position FROM streams ORDER BY stream_id;
CREATE TABLE stream_names (stream_id TEXT PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO stream_names (stream_id, id) SELECT stream_id, row_number() OVER (ORDER BY stream_id) FROM streams ORDER BY stream_id;
DROP TABLE streams;
ALTER TABLE stream_names RENAME TO streams;`;

/**
 * Version 2 and 3 kept links and heads by a trigger for every inserted row, so that a row another tool inserted
 * joined its stream (and version 2 for the store's own rows too). Measured on a 1M-line import (session 9): the
 * trigger, even guarded to act only on rows without a link, was ~2 s of the append thread's ~12-13 s (1.2-2.5 s
 * in 3 alternating pairs). Version 4 has none: the store's appends write links and heads themselves, and a row
 * written behind the store is in no stream, which `eventsOutsideStreams` (and so `crm verify`) names.
 */
const OLD_STREAM_TRIGGER = 'events_continue_stream';

/**
 * Creates the tables of a new file, or brings a file of an earlier layout to this one, through version 6: version 6
 * kept the stream and type names in the rows and the links in a table of their own (KEYS_INTO_ROWS, the last step of
 * every conversion), version 5 also kept every row's metadata whole (its rows stay so; METADATA_PARTS), version 4
 * kept each stream's head with its name (they are split, STREAMS_BY_KEY); versions 2 and 3 also had a trigger (it is
 * dropped); before that `events` had `UNIQUE(stream_id, revision)` (and before that `UNIQUE(event_id)`), and the
 * table is copied without them, and the stream heads and links are derived from its rows. Under the write lock, so
 * two processes opening the file do it once.
 */
function ensureSchema(db: Database.Database): void {
  if (db.pragma('user_version', { simple: true }) === SCHEMA_VERSION) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new Error(`${db.name}: layout version ${version} is newer than this code's (${SCHEMA_VERSION}); open it with newer code`);
    if (version !== SCHEMA_VERSION) {
      const exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'events'").get() !== undefined;
      const sequenced = db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'").get() !== undefined;
      const seq = sequenced ? (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").pluck().get() as number | undefined) : undefined;
      // First to version 6 (a new file: its empty tables), then to 7.
      if (!exists) db.exec(EVENTS_TABLE_6('events') + STREAM_TABLES_6 + METADATA_CONTEXTS);
      else if (version === 5) db.exec(METADATA_PARTS);
      else if (version >= 2 && version <= 4) db.exec(`DROP TRIGGER IF EXISTS ${OLD_STREAM_TRIGGER};` + STREAMS_BY_KEY + METADATA_PARTS);
      else if (version < 2) {
        db.exec(`${EVENTS_TABLE_6('events_copy')}
          INSERT INTO events_copy (position, event_id, stream_id, revision, type, data, metadata)
            SELECT position, event_id, stream_id, revision, type, data, metadata FROM events ORDER BY position;
          DROP TABLE events;
          ALTER TABLE events_copy RENAME TO events;
          ${STREAM_TABLES_6}
          ${METADATA_CONTEXTS}
          INSERT INTO stream_links (position, previous)
            SELECT position, lag(position) OVER (PARTITION BY stream_id ORDER BY revision) FROM events;
          INSERT INTO stream_heads (id, revision, position)
            SELECT row_number() OVER (ORDER BY stream_id), revision, position FROM (SELECT stream_id, revision, position, row_number() OVER (PARTITION BY stream_id ORDER BY revision DESC) AS n FROM events) WHERE n = 1 ORDER BY stream_id;
          INSERT INTO streams (stream_id, id) SELECT stream_id, row_number() OVER (ORDER BY stream_id) FROM (SELECT DISTINCT stream_id FROM events) ORDER BY stream_id;`);
      }
      db.exec(KEYS_INTO_ROWS);
      // Positions are never reused, also those of rows deleted from the end before a copy.
      if (seq !== undefined) {
        db.prepare("INSERT INTO sqlite_sequence (name, seq) SELECT 'events', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events')").run();
        db.prepare("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'events'").run(seq);
      }
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }
    db.exec('COMMIT');
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

/** A stream's [revision, position of its last event, key]. */
const STREAM_HEAD = 'SELECT h.revision, h.position, h.id FROM streams s JOIN stream_heads h ON h.id = s.id WHERE s.stream_id = ?';
/** The hash of a stream's event at a revision, when that is its head (the only one an append asks for). */
const STREAM_HASH = "SELECT json_extract(metadata, '$.hash') FROM events WHERE position = (SELECT h.position FROM streams s JOIN stream_heads h ON h.id = s.id WHERE s.stream_id = ? AND h.revision = ?)";

/**
 * A stream's events from revision @from on, newest first, as [position, revision, previous]: from the head back along
 * the links while the revision is above @from (each link is one revision back: appends let no stream skip one).
 * `previous` is null where the row is missing (deleted by hand) or has no link: the walk ends there.
 */
const STREAM_CHAIN = `
WITH RECURSIVE chain (position, revision, previous) AS (
  SELECT h.position, h.revision, e.previous FROM streams s JOIN stream_heads h ON h.id = s.id LEFT JOIN events e ON e.position = h.position WHERE s.stream_id = @stream
  UNION ALL
  SELECT c.previous, c.revision - 1, e.previous FROM chain c LEFT JOIN events e ON e.position = c.previous WHERE c.revision > @from AND c.previous > 0
)
SELECT position, revision, previous FROM chain WHERE revision >= @from`;

/**
 * Positions of a stream's rows from @from up to below @below, found by name and revision: a walk that ended at a
 * missing row reaches the rows before it this way, so that verify sees them and the gap (a full pass over the table;
 * only on a file changed behind the store).
 */
const STREAM_ROWS_BELOW =
  'SELECT position FROM events WHERE stream_key = (SELECT id FROM streams WHERE stream_id = @stream) AND revision >= @from AND revision < @below';

/**
 * The rows at the positions of a JSON array, in position order (a page of a stream's positions). A row deleted from
 * the file by hand is simply missing (verify reports the gap).
 */
const ROWS_AT = `SELECT ${COLUMNS} FROM ${EVENTS} WHERE e.position IN (SELECT value FROM json_each(?)) ORDER BY e.position`;

/**
 * Every row's position and link, in position order, as two JSON arrays (see eventsOutsideStreams): 1.34M rows in
 * ~0.4 s, where taking them row by row cost 1.2-1.9 s.
 */
const ROW_LINKS = 'SELECT json_group_array(position), json_group_array(previous) FROM (SELECT position, previous FROM events ORDER BY position)';

/** Stream names of listStreams. */
const LIST_STREAMS = 'SELECT s.stream_id FROM streams s JOIN stream_heads h ON h.id = s.id';

/** Rows after a position as [position, event_id, stream name] (the append thread's scan of other connections' rows). */
const ROW_IDS_AFTER = 'SELECT e.position, e.event_id, s.stream_id FROM events e LEFT JOIN streams s ON s.id = e.stream_key WHERE e.position > ? ORDER BY e.position';

/** Every stream's name, revision and head position. */
const STREAM_HEADS = 'SELECT s.stream_id, h.revision, h.position FROM streams s JOIN stream_heads h ON h.id = s.id';

/**
 * The index of a position in the ascending `positions`, or -1: from a table by position when the positions are dense
 * (a store's are, but for rows deleted or rolled back; 1.34M rows walked in ~0.35 s, by binary search ~0.6 s), else
 * from a map.
 */
function positionIndex(positions: readonly number[]): (position: number) => number {
  const last = positions.length === 0 ? 0 : positions[positions.length - 1];
  if (last > 2 * positions.length + 1024) {
    const map = new Map(positions.map((p, i) => [p, i]));
    return (position) => map.get(position) ?? -1;
  }
  const table = new Int32Array(last + 1).fill(-1);
  for (let i = 0; i < positions.length; i++) table[positions[i]] = i;
  return (position) => (position >= 0 && position <= last ? table[position] : -1);
}

/** A row as a StoredEvent; `contextOf` gives the shared metadata keys of a metadata_contexts row. */
function toStored(r: Row, contextOf: (id: number) => Readonly<Record<string, unknown>>): StoredEvent {
  const metadata = JSON.parse(r[6]) as EventMetadata;
  return {
    id: r[1],
    type: r[4],
    data: JSON.parse(r[5]) as unknown,
    metadata: r[7] === 0 && r[8] === 0 ? metadata : wholeMetadata(metadata, r[1], r[7], r[8] === 0 ? undefined : contextOf(r[8])),
    streamId: r[2],
    revision: r[3],
    position: BigInt(r[0]),
  };
}

/**
 * The metadata a row's parts stand for, keys in METADATA_ORDER and `hash` last: the very text that was hashed (rows
 * are kept in parts only when their metadata was a layout, whose keys come in that order).
 */
function wholeMetadata(own: EventMetadata, id: string, idKeys: number, context: Readonly<Record<string, unknown>> | undefined): EventMetadata {
  const o = own as unknown as Record<string, unknown>;
  const m: Record<string, unknown> = {};
  for (let bit = 0; bit < METADATA_ORDER.length; bit++) {
    const key = METADATA_ORDER[bit];
    const v = (idKeys & (1 << bit)) !== 0 ? id : context?.[key] !== undefined ? context[key] : o[key];
    if (v !== undefined) m[key] = v;
  }
  // A row written by hand may have other keys: kept, so that verify sees what is there.
  for (const key in o) if (key !== 'hash' && !(key in m)) m[key] = o[key];
  if (o.hash !== undefined) m.hash = o.hash;
  return m as unknown as EventMetadata;
}

/** A row as a ReplayedEvent: the metadata is not parsed, only its `occurredAt` is taken from the text. */
function toReplayed(r: Row): ReplayedEvent {
  return {
    streamId: r[2],
    revision: r[3],
    position: BigInt(r[0]),
    type: r[4],
    data: JSON.parse(r[5]) as unknown,
    metadata: { occurredAt: occurredAtOf(r[6]) },
  };
}

/**
 * `JSON.parse(json).occurredAt` of metadata JSON, without parsing the rest (~360 bytes per event, a third of a
 * replay's parsing). Inside a JSON string every quote is escaped, so the key found is a key; when it is the only
 * one and its value has no escapes, it is the top-level field. Anything else is parsed. Written without outside
 * names: the replay thread runs it from its source text.
 */
export function occurredAtOf(json: string): string {
  const key = '"occurredAt":"';
  const at = json.indexOf(key);
  if (at >= 0) {
    const from = at + key.length;
    const to = json.indexOf('"', from);
    const value = json.slice(from, to);
    if (to > 0 && !value.includes('\\') && json.indexOf(key, to) < 0) return value;
  }
  return (JSON.parse(json) as { occurredAt: string }).occurredAt;
}

/**
 * A row as the replay thread sends it: position, stream, revision, type, data, occurredAt, the rows of a message
 * one after the other in one flat array (no array per row to allocate and collect). A stream id or type is sent
 * once, then as its number (the count of distinct ones before it): every event of a stream then carries the same
 * string, whose hash is computed once (a Map lookup by a fresh string hashed it per event: ~0.4 µs).
 */
const REPLAY_ROW_FIELDS = 6;

/** The number a stream or type field stands for (see REPLAY_ROW_FIELDS); `seen` holds the strings met so far in this replay. */
function numbered(seen: string[], v: string | number): number {
  if (typeof v === 'number') return v;
  seen.push(v);
  return seen.length - 1;
}

/**
 * `json` with every non-ASCII UTF-16 unit written as a \uXXXX escape: JSON.parse gives the same value (outside
 * strings JSON is ASCII), and the text stays a one-byte string: a single non-ASCII character makes a whole page
 * two-byte, twice the bytes to pass between threads. Written without outside names (see occurredAtOf).
 */
export function asciiJson(json: string): string {
  return /[\u0080-\uffff]/.test(json) ? json.replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) : json;
}

/**
 * Characters of JSON text per message of the replay thread (a page ends early when it reaches them). Measured:
 * passing a 300 KB string between threads cost the receiver ~0.3 ms (V8 allocates it as a large object, in
 * fresh memory), 75 KB strings ~0.03 ms.
 */
const REPLAY_MESSAGE_CHARS = 64 * 1024;

/**
 * Messages the replay thread may post ahead of the reader. It is told of taken ones half of them at a time:
 * each message wakes it, and on a busy machine a woken thread can take the reader's core.
 */
const REPLAY_AHEAD = 16;

/**
 * The replay thread: reads the rows after `from` with its own connection, a page per query as readAll does,
 * and posts them as JSON text, one flat array of rows per message (REPLAY_ROW_FIELDS; the data column is JSON text
 * already), so the reading thread parses one string per message and never sees the metadata. Each message back is
 * a count of messages taken.
 */
const REPLAY_WORKER_SOURCE = `
const { parentPort, workerData } = require('worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
for (const p of workerData.pragmas) db.pragma(p);
const { prefix, pageSize } = workerData;
const stPage = db.prepare(${JSON.stringify(READ_REPLAY_KEYS)}).raw();
const occurredAtOf = ${occurredAtOf.toString()};
const asciiJson = ${asciiJson.toString()};
let from = workerData.from;
let credit = ${REPLAY_AHEAD};
let done = false;
let rows = [];
let next = 0;
let last = false;
/** Streams and types by key: the number each was sent as (-1: a stream whose name lacks the prefix, skipped). */
const streams = { refs: new Map(), count: 0, name: db.prepare('SELECT stream_id FROM streams WHERE id = ?').pluck(), prefix };
const types = { refs: new Map(), count: 0, name: db.prepare('SELECT name FROM event_types WHERE id = ?').pluck(), prefix: undefined };
/** A key's number, or its name as JSON the first time (the name then gets the next number), or -1 (skipped). */
function ref(kind, key) {
  const n = kind.refs.get(key);
  if (n !== undefined) return n;
  const name = kind.name.get(key) ?? '#' + key; // as the reading thread's own queries name a key that names nothing
  const r = kind.prefix && !name.startsWith(kind.prefix) ? -1 : kind.count++;
  kind.refs.set(key, r);
  return r === -1 ? -1 : JSON.stringify(name);
}
/** The last stream key and its number: an event's derived events follow it in its stream (no map lookup for them). */
let lastKey = -1;
let lastRef = 0;
function streamRef(key) {
  if (key === lastKey) return lastRef;
  const r = ref(streams, key);
  lastKey = key;
  lastRef = streams.refs.get(key);
  return r;
}
function pump() {
  while (credit > 0 && !done) {
    let text = '';
    while (text.length < ${REPLAY_MESSAGE_CHARS}) {
      if (next === rows.length) {
        if (last || text !== '') break; // a message holds rows of one page (of pageSize rows)
        rows = stPage.all(from, pageSize);
        next = 0;
        last = rows.length < pageSize;
        if (rows.length > 0) from = rows[rows.length - 1][0];
        continue;
      }
      const r = rows[next++];
      const stream = streamRef(r[1]);
      if (stream === -1) continue;
      text += (text === '' ? '' : ',') + asciiJson(r[0] + ',' + stream + ',' + r[2] + ',' + ref(types, r[3]) + ',' + r[4] + ',' + JSON.stringify(occurredAtOf(r[5])));
    }
    done = last && next === rows.length;
    credit--;
    parentPort.postMessage({ text: '[' + text + ']', done });
  }
  if (done) db.close();
}
parentPort.on('message', (taken) => {
  credit += taken;
  pump();
});
pump();
`;

function checkExpected(expected: ExpectedRevision): void {
  if (expected !== 'any' && !(Number.isInteger(expected) && expected >= -1)) {
    throw new TypeError(`invalid expected revision ${String(expected)}`);
  }
}

function toNumber(position: Position | undefined): number {
  if (position === undefined) return 0;
  if (position < 0n) return 0;
  if (position > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`position ${position} out of range`);
  return Number(position);
}

/** Strings JSON writes as they are between quotes: printable ASCII except `"` and `\\`. */
const JSON_PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
/** The metadata keys in the order the write side sets them. A layout has bit i set when key i is present. */
const METADATA_ORDER = ['correlationId', 'causationId', 'occurredAt', 'recordedAt', 'schemaVersion', 'upstreamEventId', 'policyVersion', 'source'];
const METADATA_BIT: Readonly<Record<string, number | undefined>> = Object.assign(Object.create(null) as object, Object.fromEntries(METADATA_ORDER.map((k, i) => [k, i])));

/** Layout bits per key (bit i for METADATA_ORDER[i]): present, the same as the event's id, the same as the last value. */
const SAME_AS_ID = 8;
const SAME_AS_RECENT = 16;
/** The keys and values of the metadata being laid out: applied to `recent` only once the whole layout holds. */
const pendingBits: number[] = [];
const pendingValues: (string | number)[] = [];

/**
 * The metadata as a layout and its values (pushed onto `values`, in key order) when its keys come in
 * METADATA_ORDER with plain string or finite number values; otherwise `JSON.stringify` of it without `hash`.
 * A value equal to the event's `id` (a fact's correlation, causation and upstream id), or to the last value
 * `recent` has for its key (a batch's recordedAt and source, a command's cause on its derived events), is not
 * pushed: the layout says where it is. The append thread turns a layout back into the text (metadataText): the main
 * thread, which is the import's bottleneck, then neither builds nor posts ~250 characters of JSON per event, and
 * the message carries ~2 strings of metadata per event instead of ~7 (measured: posting and receiving a 2,700-event
 * batch cost ~40% as much).
 */
export function metadataLayout(m: EventMetadata, id: string | undefined, values: (string | number)[], recent: (string | number | undefined)[]): number | string {
  const start = values.length;
  let layout = 0;
  let last = -1;
  pendingBits.length = 0;
  pendingValues.length = 0;
  for (const key in m) {
    if (key === 'hash') continue;
    const v = (m as unknown as Record<string, unknown>)[key];
    if (v === undefined) continue;
    const bit = METADATA_BIT[key];
    if (bit === undefined || bit <= last || !Object.prototype.hasOwnProperty.call(m, key) || !(typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) {
      values.length = start;
      return JSON.stringify({ ...m, hash: undefined });
    }
    if (v === id) layout |= 1 << (bit + SAME_AS_ID);
    else if (v === recent[bit]) layout |= 1 << (bit + SAME_AS_RECENT);
    else values.push(v);
    pendingBits.push(bit);
    pendingValues.push(v);
    layout |= 1 << bit;
    last = bit;
  }
  for (let k = 0; k < pendingBits.length; k++) recent[pendingBits[k]] = pendingValues[k];
  return layout;
}

/**
 * What a row keeps of its metadata (see "Stored metadata" in the class comment): `contextKeys` (bit i for
 * METADATA_ORDER[i]) says which keys go to the append's shared context; metadataText sets the rest.
 */
export interface MetadataParts {
  contextKeys: number;
  /** Bit i: METADATA_ORDER[i] is the event's id. */
  idKeys: number;
  /** JSON text of the keys that are neither the id nor shared, without `hash`. */
  own: string;
  /** Bit i: METADATA_ORDER[i] is a shared key of this event, its value in `shared[i]`. */
  sharedKeys: number;
  shared: (string | number)[];
}

/**
 * The JSON text of a metadata layout (metadataLayout) whose own values start at `values[at]`, for the event `id`,
 * with the same `recent` as it was laid out with (updated the same way); `keys`: METADATA_ORDER, `plain`:
 * JSON_PLAIN. Exactly what JSON.stringify gives. With `parts`, also what a row keeps of it. Written without outside
 * names: the append thread runs it from its source text.
 */
export function metadataText(
  keys: readonly string[],
  plain: { test(s: string): boolean },
  layout: number,
  values: readonly (string | number)[],
  at: number,
  id: string | undefined,
  recent: (string | number | undefined)[],
  parts?: MetadataParts,
): string {
  let text = '{';
  let own = '{';
  let idKeys = 0;
  let sharedKeys = 0;
  for (let bit = 0; bit < 8; bit++) {
    if ((layout & (1 << bit)) === 0) continue;
    const sameAsId = (layout & (1 << (bit + 8))) !== 0;
    const v = sameAsId ? (id as string) : (layout & (1 << (bit + 16))) !== 0 ? (recent[bit] as string | number) : values[at++];
    recent[bit] = v;
    const entry = '"' + keys[bit] + (typeof v === 'number' ? '":' + String(v) : plain.test(v) ? '":"' + v + '"' : '":' + JSON.stringify(v));
    text += (text.length > 1 ? ',' : '') + entry;
    if (parts === undefined) continue;
    if (sameAsId) idKeys |= 1 << bit;
    else if ((parts.contextKeys & (1 << bit)) !== 0) {
      sharedKeys |= 1 << bit;
      parts.shared[bit] = v;
    } else own += (own.length > 1 ? ',' : '') + entry;
  }
  if (parts !== undefined) {
    parts.idKeys = idKeys;
    parts.own = own + '}';
    parts.sharedKeys = sharedKeys;
  }
  return text + '}';
}

/** How many of `values` a layout takes (present keys that refer to nothing). Without outside names, as metadataText. */
export function layoutSize(layout: number): number {
  let n = 0;
  for (let bits = layout & 0xff; bits !== 0; bits &= bits - 1) n++;
  for (let bits = layout >>> 8; bits !== 0; bits &= bits - 1) n--;
  return n;
}

/**
 * Exactly `JSON.stringify(m)` without `hash` (same keys, order and escaping); the store adds the hash itself. With
 * `parts`, also what a row of event `id` keeps of it (`parts.own` is '' when the row must keep it whole).
 */
export function metadataJson(m: EventMetadata, id?: string, parts?: MetadataParts): string {
  const values: (string | number)[] = [];
  const layout = metadataLayout(m, id, values, []);
  if (typeof layout === 'string') {
    if (parts !== undefined) parts.own = '';
    return layout;
  }
  return metadataText(METADATA_ORDER, JSON_PLAIN, layout, values, 0, id, [], parts);
}

/** The metadata keys an append's events share, kept once in metadata_contexts (bits as in a layout). */
const CONTEXT_KEYS = ['recordedAt', 'schemaVersion', 'source'].reduce((bits, key) => bits | (1 << METADATA_ORDER.indexOf(key)), 0);
const INSERT_CONTEXT = 'INSERT INTO metadata_contexts (json) VALUES (?)';
/** metadata_contexts rows a reader keeps parsed (an import writes ~2 per batch). */
const CONTEXTS_KEPT = 4096;

/** The metadata_contexts rows a connection wrote (see contextRow). */
interface ContextRows {
  /** JSON text of the shared keys -> row. */
  byText: Map<string, number>;
  /** Per set of shared keys (MetadataParts.sharedKeys), the last values and their row. */
  last: ({ values: (string | number)[]; row: number } | undefined)[];
}

/**
 * The metadata_contexts row of the shared keys in `parts` (0 for none): the last one with the same values, one this
 * connection wrote (committed, or in the transaction now open: the caller empties `rows` when one is rolled back),
 * or a new one. Comparing values saves building and hashing a text per event (measured: ~0.6 s of the append
 * thread per 1M events). Without outside names: the append thread runs it from its source text.
 */
function contextRow(rows: ContextRows, insert: { run(text: string): { lastInsertRowid: number | bigint } }, keys: readonly string[], parts: MetadataParts): number {
  const bits = parts.sharedKeys;
  if (bits === 0) return 0;
  const last = rows.last[bits];
  if (last !== undefined) {
    let same = true;
    for (let bit = 0; bit < 8 && same; bit++) if ((bits & (1 << bit)) !== 0 && last.values[bit] !== parts.shared[bit]) same = false;
    if (same) return last.row;
  }
  const context: Record<string, string | number> = {};
  for (let bit = 0; bit < 8; bit++) if ((bits & (1 << bit)) !== 0) context[keys[bit]] = parts.shared[bit];
  const text = JSON.stringify(context);
  let row = rows.byText.get(text);
  if (row === undefined) {
    row = Number(insert.run(text).lastInsertRowid);
    if (rows.byText.size >= 1024) rows.byText.clear();
    rows.byText.set(text, row);
  }
  rows.last[bits] = { values: parts.shared.slice(), row };
  return row;
}

/** Empties `rows` (after a rollback: they may name rows that are gone). */
function forgetContextRows(rows: ContextRows): void {
  rows.byText.clear();
  rows.last.length = 0;
}

type HashCache = Map<string, { revision: number; hash: string }>;

/** Streams whose last hash is kept, about 200 bytes each; older ones are read back from the table. */
const HASH_CACHE_STREAMS = 100_000;

/**
 * The number of each request's stream for the append thread (see AppendMessage.slots): the request's streamKey when
 * it names this stream (one comparison, of the same string mostly), else the stream's number by name, or a new one.
 */
function streamSlots(t: AppendThread, requests: readonly AppendRequest[]): { slots: number[]; names: (number | string)[]; resetSlots: boolean } {
  const resetSlots = t.names.length + requests.length > t.maxStreams;
  if (resetSlots) {
    t.names = [];
    t.slots = new Map();
  }
  const slots: number[] = [];
  const names: (number | string)[] = [];
  for (let i = 0; i < requests.length; i++) {
    const { streamId, streamKey } = requests[i];
    let slot = streamKey !== undefined && t.names[streamKey] === streamId ? streamKey : t.slots.get(streamId);
    if (slot === undefined) {
      slot = t.names.push(streamId) - 1;
      t.slots.set(streamId, slot);
      names.push(slot, streamId);
    }
    slots.push(slot);
  }
  return { slots, names, resetSlots };
}

/**
 * The hash of a stream's last event (at `revision`): from the cache of committed appends when it is that
 * revision, else read from the row. The cache saves reading a table row per stream and append (the revision
 * comes from the index alone).
 */
function lastHashOf(cache: HashCache, streamId: string, revision: number, read: (revision: number) => string | null | undefined): string {
  const c = cache.get(streamId);
  if (c !== undefined && c.revision === revision) return c.hash;
  return read(revision) || '';
}

/**
 * Sets `key` to `value` in `cache`: an entry already there is updated in place (one lookup; moving it to the end
 * as the most recent took a delete and a set, ~0.6 s of the append thread per 1M events), a new one goes to the
 * end, and the oldest entries beyond `max` are dropped. Written without outside names: the append thread runs it
 * from its source text too.
 */
function rememberRecent<V extends object>(cache: Map<string, V>, key: string, value: V, max: number): void {
  const known = cache.get(key);
  if (known !== undefined) {
    Object.assign(known, value);
    return;
  }
  cache.set(key, value);
  while (cache.size > max) cache.delete(cache.keys().next().value as string);
}

/** Records committed appends' last hashes (streamId, revision, hash triples). */
function rememberHashes(cache: HashCache, triples: (string | number)[], max: number): void {
  for (let i = 0; i < triples.length; i += 3) rememberRecent(cache, triples[i] as string, { revision: triples[i + 1] as number, hash: triples[i + 2] as string }, max);
}

/** What the main thread sends the append thread: one appendMany, its data and metadata already JSON text. */
interface AppendMessage {
  id: number;
  /**
   * Each request's stream as the number the main thread gave it (AppendThread.names), with the streams new to this
   * message in `names` (number, name pairs); `resetSlots`: the numbers start over (appendThreadStreams).
   */
  slots: number[];
  names: (number | string)[];
  resetSlots: boolean;
  /** Expected revision per request, null for 'any'. */
  expected: (number | null)[];
  /** Events per request. */
  counts: number[];
  /**
   * Per event, flat: id, type (an index into `types`), data JSON, and its metadata: JSON text, or a layout whose
   * values are next in `metadataValues`. A derived id (DerivedEventId) comes as its v5 name, its type as -1 - index:
   * the append thread makes the UUID.
   */
  rows: (string | number)[];
  /** The event types of this message (a type string per event was ~10% of what a message carries). */
  types: string[];
  /** The values of the metadata layouts in `rows`, one after the other (see metadataLayout). */
  metadataValues: (string | number)[];
}

/** Asks the append thread which of these ids are recorded, once the appends asked for before are done. */
interface IdQuery {
  id: number;
  query: readonly string[];
}

interface AppendReply {
  id: number;
  /** nextExpectedRevision then position, per request. */
  results?: number[];
  /** The answer to an IdQuery. */
  found?: string[];
  error?: { name: string; message: string; code?: string; streamId?: string; expected?: number | 'any'; actual?: number; eventIds?: string[] };
}

/**
 * The checkpoint thread, started by the append thread: a connection of its own that copies the WAL into the
 * database (PASSIVE: it never blocks the writer) whenever the append thread asks. Requests that queue while a
 * checkpoint runs are served by the next one.
 */
const CHECKPOINT_WORKER_SOURCE = `
'use strict';
const { parentPort, workerData, receiveMessageOnPort } = require('worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
for (const p of workerData.pragmas) db.pragma(p);
db.pragma('wal_autocheckpoint = 0');
// Background work: at nice 10 (this thread alone on Linux, where a nice value is a thread's) it takes a core when one
// is free rather than from the appending and deciding threads. Measured on the 1M-line import, 6 runs in ABBA order:
// wall per pair mixed (-1.60 to +1.44 s), wall per second of main-thread CPU lower in 5 of 6: a small gain at most.
// Falling behind costs nothing: the append connection's own checkpoint (walAutocheckpointPages / 2) bounds the WAL.
try {
  require('os').setPriority(10);
} catch {
  // not allowed here: it runs at the process's priority
}
parentPort.on('message', (m) => {
  let close = m === 'close';
  for (let r = receiveMessageOnPort(parentPort); r !== undefined; r = receiveMessageOnPort(parentPort)) close ||= r.message === 'close';
  if (close) {
    db.close();
    parentPort.close();
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Copied by the next checkpoint, or by the append connection's own.
  }
});
`;

/**
 * The append thread (plain JavaScript run with `eval`, so it works from compiled and from TypeScript sources
 * alike). It does under `BEGIN IMMEDIATE` exactly what appendInTransaction does, with an event-id index of its own:
 * every row it wrote or scanned (other connections' rows are scanned at each append, under the write lock). It also
 * answers IdQuery messages from that index.
 */
const APPEND_WORKER_SOURCE = `
'use strict';
const { parentPort, workerData, receiveMessageOnPort } = require('worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
/** Replies go through their own port, which the main thread can also read synchronously (see drainReplies). */
const replies = workerData.replies;
for (const p of workerData.pragmas) db.pragma(p);
const CHUNK = workerData.chunk;
/** Row text appended since the checkpoint thread was last asked to copy the WAL (see walAutocheckpointPages). */
let uncopied = 0;
let checkpointer;
if (workerData.walPages > 0) {
  db.pragma('wal_autocheckpoint = ' + Math.max(1, Math.floor(workerData.walPages / 2)));
  checkpointer = new (require('worker_threads').Worker)(${JSON.stringify(CHECKPOINT_WORKER_SOURCE)}, { eval: true, workerData: { driver: workerData.driver, file: workerData.file, pragmas: workerData.pragmas } });
  checkpointer.on('error', () => {
    // Gone: this connection's own checkpoints copy everything.
    checkpointer = undefined;
  });
}
const values = ${values.toString()};
const rowStatements = (${prepareRowStatements.toString()})(db, CHUNK);
const rowWriter = ${rowWriter.toString()};
const stNextPosition = db.prepare(${JSON.stringify(NEXT_POSITION)}).pluck();
const stHead = db.prepare(${JSON.stringify(STREAM_HEAD)}).raw();
const stHash = db.prepare(${JSON.stringify(STREAM_HASH)}).pluck();
/**
 * The streams by the numbers the main thread gives them (AppendMessage.slots): each one's name, and its head (revision,
 * position, hash) and key while this thread knows it (it appended to the stream and no other connection has written to
 * it since): most appends then need no lookup of a head in the streams table. An array by number, not a map by name:
 * a lookup by the name received in each message cost ~0.5 us (the name hashed, the key's text compared), ~0.4 s of
 * this thread per 1M-line import.
 */
let names = [];
/** Name to number, for the rows of other connections (they evict their streams' heads). */
let slotOf = new Map();
let heads = [];
/** Counts appends: a stream's mark says which append last had a request for it, and atOf at which index. */
let appends = 0;
let markOf = [];
let atOf = [];
/** Every row up to here was written by this thread or seen by its scans, its event id in the index. */
let scannedThrough = 0;
const EventIdSet = (${defineEventIdSet.toString()})((${makeUuidWords.toString()})());
/**
 * The event ids of the file (through scannedThrough) and of the appends of the transaction in progress: kept here, not
 * on the main thread, which was the import's limit (measured on a 1M-line import, 5 alternating pairs: the main
 * thread -0.7 s of ~10 s, this thread +0.6 s, wall -0.4 s median).
 */
const ids = new EventIdSet();
const crypto = require('crypto');
const chainHash = ${chainHash.toString()};
const v5OfName = (${makeV5OfName.toString()})(crypto, Buffer, ${JSON.stringify(DERIVED_ID_NAMESPACE)});
const withHash = ${withHash.toString()};
const metadataText = ${metadataText.toString()};
const layoutSize = ${layoutSize.toString()};
const contextRow = ${contextRow.toString()};
const forgetContextRows = ${forgetContextRows.toString()};
const stInsertContext = db.prepare(${JSON.stringify(INSERT_CONTEXT)});
/** The metadata_contexts rows this thread wrote (see contextRow). */
const contextRows = { byText: new Map(), last: [] };
/** The event types' keys by name this connection has looked up or made (emptied when a transaction is rolled back). */
const typeKeys = new Map();
const parts = { contextKeys: ${CONTEXT_KEYS}, idKeys: 0, own: '', sharedKeys: 0, shared: [] };
const METADATA_ORDER = ${JSON.stringify(METADATA_ORDER)};
const JSON_PLAIN = ${JSON_PLAIN.toString()};
/**
 * JSON_PLAIN with the last four plain strings remembered: an event repeats its cause as correlation, causation and
 * upstream id, and a batch shares its recordedAt and source (measured: the regex was ~2.5% of this thread).
 */
const plainRecent = {
  a: '', b: '', c: '', d: '',
  test(v) {
    if (v === this.a || v === this.b || v === this.c || v === this.d) return true;
    if (!JSON_PLAIN.test(v)) return false;
    this.d = this.c;
    this.c = this.b;
    this.b = this.a;
    this.a = v;
    return true;
  },
};
const stIdsAfter = db.prepare(${JSON.stringify(ROW_IDS_AFTER)}).raw();
const stIdsOnlyAfter = db.prepare('SELECT position, event_id FROM events WHERE position > ? ORDER BY position').raw();
class Failure extends Error {}

/**
 * Reads the rows after scannedThrough (all of them the first time): other connections' rows, whose streams' heads are
 * no longer known here, and whose ids join the index. Rows up to scannedThrough are this thread's own or were
 * scanned before. (After a rollback some are read again.)
 */
function scan() {
  if (names.length === 0) {
    // No stream numbered yet, so no head to forget: the ids alone (the first scan of a big file, e.g. a re-import's
    // first lookup, which the main thread waits for; 1.34M rows in profiles: 1.42 s this way, 1.65 s with the streams).
    for (const row of stIdsOnlyAfter.iterate(scannedThrough)) {
      ids.add(row[1]);
      scannedThrough = row[0];
    }
    return;
  }
  for (const row of stIdsAfter.iterate(scannedThrough)) {
    const slot = slotOf.get(row[2]);
    if (slot !== undefined) heads[slot] = undefined;
    ids.add(row[1]);
    scannedThrough = row[0];
  }
}

const reserveIds = ${reserveIds.toString()};

function append(m, out) {
  if (m.resetSlots) {
    names = [];
    slotOf = new Map();
    heads = [];
    markOf = [];
    atOf = [];
  }
  // The numbers come in order (the main thread counts up from 0): the arrays grow one by one and stay dense (an
  // element written far past the end turns an array into a dictionary, as slow to read as a map).
  for (let k = 0; k < m.names.length; k += 2) {
    const slot = m.names[k];
    if (slot < names.length) continue; // known already: an append tried again alone after its group failed
    names.push(m.names[k + 1]);
    heads.push(undefined);
    markOf.push(0);
    atOf.push(0);
    slotOf.set(m.names[k + 1], slot);
  }
  scan();
  const rows = m.rows;
  for (let r = 1; r < rows.length; r += 4) {
    if (rows[r] < 0) {
      rows[r - 1] = v5OfName(rows[r - 1]); // a derived id's v5 name (see AppendMessage)
      rows[r] = -1 - rows[r];
    }
  }
  const dup = reserveIds(ids, rows, 4, out.added); // an event's id is the first of its 4 values in rows
  if (dup !== undefined) throw Object.assign(new Failure(), { reply: { name: 'DuplicateEventIdError', message: '', eventIds: dup } });
  const n = m.slots.length;
  const startRevision = new Array(n);
  const startPosition = new Array(n);
  const previous = new Array(n);
  /** Hash of the event before each request's first: the chain continues from it. */
  const startHash = new Array(n);
  /**
   * The heads entry a request's stream had, updated in place once the append succeeds: a new entry per stream and
   * append, kept in heads, cost the append thread ~0.3-0.5 s per 1M events (promoted objects).
   */
  const cached = new Array(n);
  /** Each request's stream key (0 until known; see rowWriter). */
  const keys = new Array(n);
  // A stream's earlier request in this append.
  const mark = ++appends;
  for (let i = 0; i < n; i++) {
    const slot = m.slots[i];
    const streamId = names[slot];
    const known = heads[slot];
    const prev = markOf[slot] === mark ? atOf[slot] : undefined;
    markOf[slot] = mark;
    atOf[slot] = i;
    let revision;
    if (prev === undefined) {
      cached[i] = known;
      if (known !== undefined) {
        revision = known.revision;
        startPosition[i] = known.position;
        startHash[i] = known.hash;
        keys[i] = known.key;
      } else {
        const head = stHead.get(streamId);
        revision = head ? head[0] : -1;
        startPosition[i] = head ? head[1] : 0;
        startHash[i] = head ? stHash.get(streamId, head[0]) || '' : '';
        keys[i] = head ? head[2] : 0;
      }
      previous[i] = -1;
    } else {
      revision = startRevision[prev] + m.counts[prev];
      startHash[i] = null; // the previous request's last hash, known once it is hashed below
      previous[i] = prev;
    }
    const expected = m.expected[i];
    if (expected !== null && expected !== revision) {
      throw Object.assign(new Failure(), { reply: { name: 'WrongExpectedVersionError', message: '', streamId, expected, actual: revision } });
    }
    startRevision[i] = revision;
  }
  /** Position of each request's stream head once it is written (its last row, or where the stream already was). */
  const lastPosition = new Array(n);
  const lastHash = new Array(n);
  const first = stNextPosition.get();
  let position = first;
  const writer = rowWriter(rowStatements, CHUNK, typeKeys);
  const types = m.types.map((type) => writer.type(type));
  let r = 0;
  let v = 0;
  const recent = []; // as metadataLayout left it for each event
  for (let i = 0; i < n; i++) {
    const streamId = names[m.slots[i]];
    let revision = startRevision[i];
    let hash = startHash[i] === null ? lastHash[previous[i]] : startHash[i];
    let link = previous[i] === -1 ? startPosition[i] : lastPosition[previous[i]];
    const count = m.counts[i];
    if (previous[i] !== -1) keys[i] = keys[previous[i]];
    const key = count > 0 ? (keys[i] = writer.stream(streamId, keys[i])) : 0;
    for (let j = 0; j < count; j++, r += 4) {
      const id = rows[r];
      const type = m.types[rows[r + 1]];
      const typeKey = types[rows[r + 1]];
      const metadata = rows[r + 3];
      revision++;
      let kept;
      if (typeof metadata === 'number') {
        // Hashed whole, kept in parts (see "Stored metadata").
        const text = metadataText(METADATA_ORDER, plainRecent, metadata, m.metadataValues, v, id, recent, parts);
        v += layoutSize(metadata);
        hash = chainHash(crypto, hash, streamId, revision, id, type, rows[r + 2], text);
        kept = withHash(parts.own, hash);
        writer.row(position, link, id, key, revision, typeKey, rows[r + 2], kept, parts.idKeys, contextRow(contextRows, stInsertContext, METADATA_ORDER, parts));
      } else {
        hash = chainHash(crypto, hash, streamId, revision, id, type, rows[r + 2], metadata);
        kept = withHash(metadata, hash);
        writer.row(position, link, id, key, revision, typeKey, rows[r + 2], kept, 0, 0);
      }
      link = position++;
      out.text += rows[r + 2].length + kept.length + 150; // ~150: id, type, stream, link, head and WAL frame
    }
    lastPosition[i] = link;
    lastHash[i] = hash;
  }
  const results = []; // pushed, not new Array(n): the reply is posted (see prepareAppend)
  for (let i = 0; i < n; i++) {
    results.push(startRevision[i] + m.counts[i], lastPosition[i]);
    if (m.counts[i] > 0) {
      writer.head(keys[i], results[2 * i], lastPosition[i]);
      out.heads.push(m.slots[i], cached[i], results[2 * i], lastPosition[i], lastHash[i], keys[i]);
    }
  }
  writer.finish();
  if (position > first) out.lastRow = position - 1;
  return results;
}

/**
 * Small appends already queued when one arrives share its transaction, up to GROUP_EVENTS events, and one commit
 * writes the pages they share once (many small appends, e.g. HTTP posts, while this thread is busy). A bigger one
 * commits alone: its reply would wait for the work of the next, and a caller that keeps a bounded number of appends in
 * flight (the import pipeline) would wait with it. An append refused by its checks has written nothing, so the others
 * go on; any other error takes the transaction back, and then each append is tried again alone. Replies go out after
 * the commit.
 */
parentPort.on('message', (m) => {
  const queued = [m];
  for (let r = receiveMessageOnPort(parentPort); r !== undefined; r = receiveMessageOnPort(parentPort)) queued.push(r.message);
  let group = [];
  let grouped = 0; // events in group
  const flush = () => {
    appendGroup(group);
    group = [];
    grouped = 0;
  };
  for (const q of queued) {
    if (q.query !== undefined) {
      flush();
      scan();
      const found = [];
      for (const id of q.query) if (ids.has(id)) found.push(id);
      replies.postMessage({ id: q.id, found });
      continue;
    }
    if (!q.close) {
      const events = q.rows.length / 4;
      if (grouped + events > ${GROUP_EVENTS}) flush(); // nothing to commit yet if the group is empty
      group.push(q);
      grouped += events;
      continue;
    }
    flush();
    db.close();
    if (checkpointer === undefined) replies.postMessage({ id: q.id, closed: true });
    else {
      checkpointer.once('exit', () => replies.postMessage({ id: q.id, closed: true }));
      checkpointer.postMessage('close');
    }
  }
  flush();
});

/** Takes the ids of an append that did not commit out of the index again. */
function forgetIds(out) {
  for (const id of out.added) ids.delete(id);
  out.added = [];
}

function errorReply(err) {
  return err instanceof Failure ? err.reply : { name: err.name, message: err.message, code: err.code };
}

function appendGroup(group) {
  if (group.length === 0) return;
  const outs = group.map((m) => ({ id: m.id, added: [], lastRow: -1, heads: [], text: 0 }));
  const scannedBefore = scannedThrough;
  const numbered = { names, slotOf, heads, markOf, atOf, count: names.length };
  let lost;
  try {
    db.exec('BEGIN IMMEDIATE');
    for (let i = 0; i < group.length; i++) {
      const out = outs[i];
      try {
        out.results = append(group[i], out);
      } catch (err) {
        if (!(err instanceof Failure)) throw err;
        out.error = err.reply;
        forgetIds(out);
        continue;
      }
      // The next append of the group starts from these heads and rows.
      const h = out.heads;
      for (let k = 0; k < h.length; k += 6) {
        const entry = h[k + 1];
        if (entry === undefined) heads[h[k]] = { revision: h[k + 2], position: h[k + 3], hash: h[k + 4], key: h[k + 5] };
        else {
          entry.revision = h[k + 2];
          entry.position = h[k + 3];
          entry.hash = h[k + 4];
        }
      }
      if (out.lastRow > scannedThrough) scannedThrough = out.lastRow;
    }
    db.exec('COMMIT');
  } catch (err) {
    lost = err;
  }
  if (lost !== undefined) {
    if (db.inTransaction) db.exec('ROLLBACK');
    for (const out of outs) forgetIds(out);
    heads.fill(undefined); // it may hold heads of rows that were not written
    forgetContextRows(contextRows);
    typeKeys.clear();
    scannedThrough = scannedBefore;
    if (group.length > 1) {
      // The streams numbered as before the group (a later append of it may have started the numbers over), so that
      // each append, tried again alone, names its new streams again in order. (One that fails alone keeps its
      // numbers: the main thread does.)
      ({ names, slotOf, heads, markOf, atOf } = numbered);
      for (let k = numbered.count; k < names.length; k++) slotOf.delete(names[k]);
      names.length = heads.length = markOf.length = atOf.length = numbered.count;
      heads.fill(undefined);
      for (const m of group) appendGroup([m]);
      return;
    }
    outs[0].results = undefined;
    outs[0].error = errorReply(lost);
  } else if (checkpointer !== undefined) {
    for (const out of outs) if (out.results !== undefined) uncopied += out.text;
    if (uncopied >= workerData.walPages * 256) {
      uncopied = 0;
      checkpointer.postMessage('copy');
    }
  }
  for (const out of outs) {
    delete out.added;
    delete out.lastRow;
    delete out.heads;
    delete out.text;
    replies.postMessage(out);
  }
}
`;

function errorFromReply(e: NonNullable<AppendReply['error']>): Error {
  if (e.name === 'WrongExpectedVersionError') return new WrongExpectedVersionError(e.streamId as string, e.expected as number, e.actual as number);
  if (e.name === 'DuplicateEventIdError') return new DuplicateEventIdError(e.eventIds ?? []);
  const err = new Error(e.message) as Error & { code?: string };
  err.name = e.name;
  if (e.code !== undefined) err.code = e.code;
  return err;
}

interface AppendThread {
  pragmas: string[];
  /** walAutocheckpointPages (0: no checkpoint thread either). */
  walPages: number;
  worker: Worker | undefined;
  /**
   * The streams the worker knows by number: each number's name, and each name's number (for requests that come
   * without their AppendRequest.streamKey, or with another stream's).
   */
  names: string[];
  slots: Map<string, number>;
  /** SqliteEventStoreOptions.appendThreadStreams. */
  maxStreams: number;
  /** The main thread's end of the worker's reply channel. */
  replies: MessagePort | undefined;
  /**
   * What awaits a reply: appends (with their streams), IdQuery, close. Plain values, no closure: one made in
   * appendOnThread kept the message's rows alive until the reply (measured on a 1M-line import: the main thread's
   * collections ~30% longer, peak RSS +50-80 MB).
   */
  calls: Map<number, ThreadCall>;
  next: number;
  /** Settles when every append asked for so far has. */
  tail: Promise<unknown>;
}

type ThreadCall = { fail: (err: Error) => void } & (
  | { kind: 'append'; ok: (results: AppendResult[]) => void; streamIds: string[]; slots: number[] }
  | { kind: 'query'; ok: (found: Set<string>) => void }
  | { kind: 'close'; ok: () => void }
);

/** Wakes caught-up subscriptions after a commit. Shared by every store of the same file in this process. */
class Notifier {
  version = 0;
  readonly waiters = new Set<() => void>();
  users = 0;
  notify(): void {
    this.version++;
    for (const w of [...this.waiters]) w();
  }
}
const notifiers = new Map<string, Notifier>();

/**
 * Embedded event store on SQLite (better-sqlite3).
 *
 * Layout (schema version 7; older files are converted when opened, see ensureSchema): the `events` table, whose
 * `position` is the rowid (AUTOINCREMENT, so a position is never reused), has no index besides it, so every
 * append only adds pages at its end. A stream is found through `streams` (its name's integer key) and
 * `stream_heads` (by key: the head's revision and position), which appends write with the rows; a row names its
 * stream and its type by key (`event_types`), and links to the one before it in its stream (`previous`; until schema 6
 * rows kept the names, and the links were a table of their own). Reading a stream walks the links back from its head. A row written into the file behind the store (a hand-written INSERT) is in no stream:
 * `eventsOutsideStreams` finds it (see OLD_STREAM_TRIGGER).
 * Measured on an import of 1M events over 20k streams: an index on `(stream_id, revision)` made each commit
 * rewrite a leaf page for nearly every stream it touched, 5.5 GB written for an 850 MB file, and cost the append
 * thread ~20 s; with the links the thread takes ~10-12 s (schema 4), ~9-11 s with the heads by key (schema 5).
 *
 * Stored metadata (schema 6): a row keeps in `metadata` only what is its own (its time, a derived event's cause and
 * policy version, the hash). `metadata_ids` marks the keys whose value is the event's id (a fact's correlation,
 * causation and upstream id), and `metadata_context` names a `metadata_contexts` row with the keys the events of an
 * append share (recordedAt, schemaVersion, source; ~2 rows per append). Reading puts the metadata back together,
 * keys in the order the write side gives them (METADATA_ORDER) and the hash last: the very text that was hashed, so
 * a changed shared row or mark breaks the chain of every event that uses it. Metadata whose keys come in another
 * order, and serialized metadata (appendSerializedSync), are kept whole (ids and context 0), as are the rows of
 * schema 5 files. Measured on a 1M-line import: the file 826 -> 543 MB (357 -> 163 bytes of metadata per row);
 * wall 11.24-11.55 s against 11.87-12.11 s in 3 alternating pairs, the append thread -0.4 s, the checkpoint thread
 * -0.35 s, system time -0.7 s.
 *
 * Event ids have no SQLite index: their uniqueness is kept by an in-memory index, an EventIdSet of
 * every event id in the file plus the highest position loaded into it (`seenThrough`). It is loaded
 * lazily by the first append or `existingEventIds` with one pass over `(position, event_id)` and then
 * caught up incrementally (rows with position > seenThrough): at the start of `existingEventIds` and
 * inside each append's `BEGIN IMMEDIATE` transaction, i.e. under the write lock, so events appended by
 * other connections or processes are seen before the check. A duplicate id (already recorded, or twice
 * in one append) fails the whole append with DuplicateEventIdError, nothing written. Cost: 20 bytes per
 * slot off the heap for UUID ids, 2M slots (40 MiB) for 1.34M ids (per store instance, and on the append thread
 * when there is one: two stores on one file hold two copies), and one pass over the table at the first
 * append/lookup (~1 s per 1M events); an append or
 * lookup with nothing new to load adds one query (~0.1 ms). In exchange appends no longer rewrite a
 * random-key index page per event.
 *
 * Append thread (option `appendThread`, used by the embedded write side): `append`/`appendMany` check the
 * arguments and turn data into JSON on the calling thread (metadata into a layout and its values), then a worker
 * thread with its own connection does the rest under `BEGIN IMMEDIATE`: the event ids against an index of its own
 * (the same EventIdSet, caught up with the rows other connections committed), the metadata JSON, expected
 * revisions, inserts, commit. Appends run in call order, each checked against the index as the previous one left
 * it (small ones queued together share a transaction, see GROUP_EVENTS); on failure their ids are taken out again. `existingEventIds`
 * is answered by that thread too, in order with the appends. A checkpoint thread started by the worker copies the
 * WAL into the database (see walAutocheckpointPages). The caller keeps deciding while SQLite writes.
 * `appendManySync`/`appendSerializedSync` still write in-thread, checked against this thread's index.
 *
 * Durability: WAL with `synchronous=NORMAL` by default. A commit survives a crash of the process, and
 * the database is never corrupted, but the last transactions before an OS crash or power loss can be
 * lost (the WAL is fsynced at checkpoints, not at every commit). Pass `{ synchronous: 'FULL' }` to fsync
 * the WAL on every commit (slower appends) when that matters.
 *
 * Concurrency: one writer at a time (SQLite lock); appends use `BEGIN IMMEDIATE` so the expected-revision
 * check and the insert see the same state even with other connections or processes on the same file;
 * `busy_timeout` makes them wait for the lock. Positions are assigned inside the write transaction, so
 * they grow in commit order and a reader never sees a gap filled later. Subscriptions are woken by
 * appends through any store on the same file in this process, and poll for the others.
 *
 * Throughput (2-vCPU VM whose speed varies by ±30%; test/bench/event-store.bench.ts: events of ~580 bytes JSON,
 * in-thread appendMany batches of 2,000 over 500 of 20k streams): 1M events 56k events/s, readAll 213k-228k/s,
 * in a slow hour; 400k events 65k/s against 56k/s with the (stream_id, revision) index, run one after the other.
 */
export class SqliteEventStore implements EventStore {
  private readonly pageSize: number;
  private readonly pollIntervalMs: number;
  private readonly replayThreadMinEvents: number;
  private readonly notifier: Notifier;
  private readonly notifierKey: string | undefined;
  private readonly subscriptions = new Set<SqliteSubscription>();
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Every event id in the file up to `seenThrough` (undefined until first needed; see the class comment). */
  private eventIds: EventIdSet | undefined;
  /** Highest position whose event id is in `eventIds`. */
  private seenThrough = 0;
  /** Ids that appendInTransaction added to `eventIds` and that belong to a not yet committed transaction. */
  private pendingIds: string[] | undefined;
  /** Position of the last row of the not yet committed append (0 if it inserts nothing). */
  private pendingThrough = 0;

  /** Set when appends run on a worker thread (option `appendThread`). */
  private readonly appendThread: AppendThread | undefined;

  private readonly rowStatements: RowStatements;
  private readonly stNextPosition: Database.Statement<[], number>;
  /** A stream's [revision, position, key] (see STREAM_HEAD). */
  private readonly stStreamHead: Database.Statement<[string], [number, number, number]>;
  private readonly stStreamHash: Database.Statement<[string, number], string | null>;
  /** The last hash of recently appended streams (see lastHashOf). */
  private readonly lastHashes: HashCache = new Map();
  /** (streamId, revision, hash) of the append in progress: remembered once it commits. */
  private pendingHashes: (string | number)[] = [];
  private readonly stIdsAfter: Database.Statement<[number], [number, string]>;
  private readonly stHead: Database.Statement<[], number | null>;
  private readonly stStreamChain: Database.Statement<[{ stream: string; from: number }], [number, number, number | null]>;
  private readonly stStreamRowsBelow: Database.Statement<[{ stream: string; from: number; below: number }], number>;
  private readonly stRowsAt: Database.Statement<[string], Row>;
  private readonly stReadAll: Database.Statement<[number, number], Row>;
  private readonly stReadAllPrefix: Database.Statement<[number, number, string, number], Row>;
  private readonly stReadPrefixUpTo: Database.Statement<[number, number, number, string, number], Row>;
  private readonly prefixPageTxn: Database.Transaction<(from: number, limit: number, prefix: string) => SubscriptionPage>;
  private readonly appendTxn: Database.Transaction<
    (requests: readonly (AppendRequest | SerializedAppendRequest)[], serialized: boolean) => AppendResult[]
  >;
  private readonly stStreamsFrom: Database.Statement<[string, number], string>;
  private readonly stStreamsAfter: Database.Statement<[string, number], string>;
  /** Shared metadata of the metadata_contexts rows read so far (they never change once written). */
  private readonly contexts = new Map<number, Readonly<Record<string, unknown>>>();
  private readonly stContext: Database.Statement<[number], string>;
  /** The metadata_contexts rows this connection wrote (see contextRow). */
  private readonly contextRows: ContextRows = { byText: new Map(), last: [] };
  private readonly stInsertContext: Database.Statement<[string]>;
  /** The event types' keys by name this connection has looked up or made (see rowWriter). */
  private readonly typeKeys = new Map<string, number>();

  /** Opens (creating it and its directory if needed) the store at `file`; ':memory:' for a private in-memory store. */
  static open(file: string, options: SqliteEventStoreOptions = {}): SqliteEventStore {
    const memory = file === ':memory:' || file === '';
    if (!memory) mkdirSync(dirname(resolve(file)), { recursive: true });
    const db = new Database(file);
    try {
      return new SqliteEventStore(db, options);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Takes ownership of `db` (closed by `close()`). */
  constructor(
    private readonly db: Database.Database,
    options: SqliteEventStoreOptions = {},
  ) {
    this.pageSize = Math.max(1, options.pageSize ?? 1000);
    this.replayThreadMinEvents = Math.max(0, options.replayThreadMinEvents ?? 100_000);
    this.pollIntervalMs = Math.max(1, options.pollIntervalMs ?? 200);
    const walPages = Math.max(0, Math.floor(options.walAutocheckpointPages ?? 65536));
    // The same connection settings on the append thread's connection, if any.
    const pragmas = [
      `busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`,
      `synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`,
      `cache_size = ${-Math.max(1024, Math.floor(options.cacheSizeKiB ?? 65536))}`,
      ...(db.memory ? [] : [`mmap_size = ${Math.max(0, Math.floor(options.mmapSizeBytes ?? 256 * 1024 * 1024))}`]),
      `wal_autocheckpoint = ${walPages}`,
      `journal_size_limit = ${Math.max(walPages, 16384) * 4096}`,
      'temp_store = MEMORY',
    ];
    db.pragma(pragmas[0]);
    if (!db.memory) db.pragma('journal_mode = WAL');
    for (let i = 1; i < pragmas.length; i++) db.pragma(pragmas[i]);
    ensureSchema(db);
    this.appendThread = options.appendThread === true && !db.memory ? { pragmas, walPages, worker: undefined, names: [], slots: new Map(), maxStreams: Math.max(1, Math.floor(options.appendThreadStreams ?? 100_000)), replies: undefined, calls: new Map(), next: 0, tail: Promise.resolve() } : undefined;

    this.rowStatements = prepareRowStatements(db, INSERT_CHUNK);
    this.stNextPosition = db.prepare<[], number>(NEXT_POSITION).pluck();
    this.stStreamHead = db.prepare<[string], [number, number, number]>(STREAM_HEAD).raw();
    this.stStreamHash = db
      .prepare<[string, number], string | null>(STREAM_HASH)
      .pluck();
    this.stIdsAfter = db
      .prepare<[number], [number, string]>('SELECT position, event_id FROM events WHERE position > ? ORDER BY position')
      .raw();
    this.stHead = db.prepare<[], number | null>('SELECT MAX(position) FROM events').pluck();
    this.stStreamChain = db.prepare<[{ stream: string; from: number }], [number, number, number | null]>(STREAM_CHAIN).raw();
    this.stStreamRowsBelow = db.prepare<[{ stream: string; from: number; below: number }], number>(STREAM_ROWS_BELOW).pluck();
    this.stRowsAt = db.prepare<[string], Row>(ROWS_AT).raw();
    this.stReadAll = db
      .prepare<[number, number], Row>(READ_ALL)
      .raw();
    this.stReadAllPrefix = db
      .prepare<[number, number, string, number], Row>(READ_ALL_PREFIX)
      .raw();
    this.stReadPrefixUpTo = db
      .prepare<[number, number, number, string, number], Row>(
        `SELECT ${COLUMNS} FROM ${EVENTS} WHERE e.position > ? AND e.position <= ? AND substr(s.stream_id, 1, ?) = ? ORDER BY e.position LIMIT ?`,
      )
      .raw();
    // One snapshot: the head, then the matching rows up to it. When fewer than `limit` match, nothing
    // else up to the head does, so the next read starts there instead of re-scanning unrelated events.
    this.prefixPageTxn = db.transaction((from: number, limit: number, prefix: string): SubscriptionPage => {
      const head = this.stHead.get() ?? 0;
      const rows = this.stReadPrefixUpTo.all(from, head, [...prefix].length, prefix, limit);
      return { rows, scannedTo: rows.length < limit ? Math.max(from, head) : rows[rows.length - 1][0] };
    });
    this.appendTxn = db.transaction(
      (requests: readonly (AppendRequest | SerializedAppendRequest)[], serialized: boolean) =>
        this.appendInTransaction(requests, serialized),
    );
    // Streams with a head (a name alone is a stream only a row written behind the store named).
    this.stStreamsFrom = db.prepare<[string, number], string>(`${LIST_STREAMS} WHERE s.stream_id >= ? ORDER BY s.stream_id LIMIT ?`).pluck();
    this.stStreamsAfter = db.prepare<[string, number], string>(`${LIST_STREAMS} WHERE s.stream_id > ? ORDER BY s.stream_id LIMIT ?`).pluck();
    this.stContext = db.prepare<[number], string>('SELECT json FROM metadata_contexts WHERE id = ?').pluck();
    this.stInsertContext = db.prepare<[string]>(INSERT_CONTEXT);

    this.notifierKey = db.memory ? undefined : resolve(db.name);
    let notifier = this.notifierKey === undefined ? undefined : notifiers.get(this.notifierKey);
    if (!notifier) {
      notifier = new Notifier();
      if (this.notifierKey !== undefined) notifiers.set(this.notifierKey, notifier);
    }
    notifier.users++;
    this.notifier = notifier;
  }

  append(streamId: string, events: NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    if (this.appendThread) return this.appendMany([{ streamId, events, expectedRevision }]).then((r) => r[0]);
    try {
      return Promise.resolve(this.appendManySync([{ streamId, events, expectedRevision }])[0]);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  appendMany(requests: AppendRequest[]): Promise<AppendResult[]> {
    const t = this.appendThread;
    if (t) return this.appendOnThread(t, requests);
    try {
      return Promise.resolve(this.appendManySync(requests));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /**
   * `appendMany` on the append thread: the arguments are checked and data and metadata turned into JSON here; the
   * message goes to the worker at once, so it finds the next append queued when it finishes one (it takes them in
   * call order). The worker takes the write lock, checks the event ids against its index (see APPEND_WORKER_SOURCE)
   * and the expected revisions, and inserts.
   */
  private appendOnThread(t: AppendThread, requests: readonly AppendRequest[]): Promise<AppendResult[]> {
    let result: Promise<AppendResult[]>;
    try {
      this.assertOpen();
      const prepared = prepareAppend(requests);
      if (requests.length === 0) return Promise.resolve([]);
      // Replies already posted are taken in now, not on a later turn of the event loop: the batches they settle are
      // let go before the next young-generation collection (measured on a 1M-line import without this: the main
      // thread's collections 1.6-1.8 s against 1.3-1.4 s).
      if (t.replies !== undefined) this.drainReplies(t, t.replies);
      const worker = this.appendWorker(t);
      const { streamIds, ...rest } = prepared;
      const { slots, names, resetSlots } = streamSlots(t, requests);
      const message: AppendMessage = { id: ++t.next, slots, names, resetSlots, ...rest };
      result = new Promise<AppendResult[]>((ok, fail) => {
        t.calls.set(message.id, { kind: 'append', ok, fail, streamIds, slots });
        worker.postMessage(message);
      });
    } catch (err) {
      return Promise.reject(err as Error);
    }
    t.tail = Promise.allSettled([t.tail, result]).then(() => undefined);
    return result;
  }

  /** Which of these ids the append thread has (see IdQuery). */
  private askThread(t: AppendThread, query: readonly string[]): Promise<Set<string>> {
    const worker = this.appendWorker(t);
    const id = ++t.next;
    return new Promise((ok, fail) => {
      t.calls.set(id, { kind: 'query', ok, fail });
      worker.postMessage({ id, query } satisfies IdQuery);
    });
  }

  private appendWorker(t: AppendThread): Worker {
    if (t.worker) return t.worker;
    const channel = new MessageChannel();
    const worker = new Worker(APPEND_WORKER_SOURCE, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), file: resolve(this.db.name), pragmas: t.pragmas, walPages: t.walPages, chunk: INSERT_CHUNK, replies: channel.port2 },
      transferList: [channel.port2],
    });
    channel.port1.on('message', (m: AppendReply & { closed?: boolean }) => this.onAppendReply(t, m));
    // A new thread knows no stream yet.
    t.names = [];
    t.slots = new Map();
    t.replies = channel.port1;
    worker.on('error', (err) => {
      // The thread is gone: every append it held fails, and the next one starts a new thread (a message posted to
      // the dead one would never be answered; its reply port would keep the process alive).
      if (t.worker === worker) {
        t.worker = undefined;
        t.replies?.close();
        t.replies = undefined;
      }
      const calls = [...t.calls.values()];
      t.calls.clear();
      for (const c of calls) c.fail(err);
    });
    t.worker = worker;
    return worker;
  }

  /** Handles every reply the append thread has posted so far. */
  private drainReplies(t: AppendThread, port: MessagePort): void {
    for (let r = receiveMessageOnPort(port); r !== undefined; r = receiveMessageOnPort(port)) this.onAppendReply(t, r.message as AppendReply & { closed?: boolean });
  }

  private onAppendReply(t: AppendThread, m: AppendReply & { closed?: boolean }): void {
    const call = t.calls.get(m.id);
    if (!call) return;
    t.calls.delete(m.id);
    if (m.error) call.fail(errorFromReply(m.error));
    else if (call.kind === 'query') call.ok(new Set(m.found));
    else if (call.kind === 'close') call.ok();
    else call.ok(this.appendResults(m, call.streamIds, call.slots));
  }

  private appendResults(m: AppendReply, streamIds: readonly string[], slots: readonly number[]): AppendResult[] {
    const r = m.results as number[];
    const results = new Array<AppendResult>(streamIds.length);
    for (let i = 0; i < results.length; i++) {
      results[i] = { streamId: streamIds[i], nextExpectedRevision: r[2 * i], position: BigInt(r[2 * i + 1]), streamKey: slots[i] };
    }
    if (results.length > 0) this.notifier.notify();
    return results;
  }

  /**
   * Synchronous `appendMany`: every request in one transaction; all expected revisions are checked
   * before anything is written. Throws WrongExpectedVersionError or DuplicateEventIdError, appending nothing.
   */
  appendManySync(requests: readonly AppendRequest[]): AppendResult[] {
    return this.appendChecked(requests, false);
  }

  /**
   * `appendManySync` for events whose data and metadata the caller already turned into JSON text
   * (e.g. on another thread, or once for both a message and the store). The text is stored as given.
   */
  appendSerializedSync(requests: readonly SerializedAppendRequest[]): AppendResult[] {
    return this.appendChecked(requests, true);
  }

  private appendChecked(requests: readonly (AppendRequest | SerializedAppendRequest)[], serialized: boolean): AppendResult[] {
    this.assertOpen();
    if (requests.length === 0) return [];
    for (const r of requests) {
      if (typeof r.streamId !== 'string' || r.streamId.length === 0) throw new TypeError('streamId must be a non-empty string');
      checkExpected(r.expectedRevision);
    }
    // The first load can take a while on a big file: do it before taking the write lock.
    if (this.eventIds === undefined) this.catchUpEventIds();
    let results: AppendResult[];
    try {
      results = this.appendTxn.immediate(requests, serialized);
    } catch (err) {
      this.forgetPendingIds();
      forgetContextRows(this.contextRows);
      this.typeKeys.clear();
      throw err;
    }
    // Committed: the ids added by appendInTransaction stay, and the index has seen our rows too.
    this.pendingIds = undefined;
    rememberHashes(this.lastHashes, this.pendingHashes, HASH_CACHE_STREAMS);
    this.pendingHashes = [];
    if (this.pendingThrough > this.seenThrough) this.seenThrough = this.pendingThrough;
    if (results.length > 0) this.notifier.notify();
    return results;
  }

  /** Rolled back: takes the ids of the failed append out of the index again. */
  private forgetPendingIds(): void {
    const pending = this.pendingIds;
    this.pendingIds = undefined;
    this.pendingThrough = 0;
    if (pending && this.eventIds) for (let i = 0; i < pending.length; i++) this.eventIds.delete(pending[i]);
  }

  /**
   * Loads the event ids of the rows after `seenThrough` (all of them the first time) into `eventIds`: the index
   * of the appends on this thread (and of `existingEventIds` for a store without an append thread).
   */
  private catchUpEventIds(): EventIdSet {
    const ids = (this.eventIds ??= new EventIdSet());
    let through = this.seenThrough;
    for (const row of this.stIdsAfter.iterate(through)) {
      ids.add(row[1]);
      through = row[0];
    }
    this.seenThrough = through;
    return ids;
  }

  private appendInTransaction(
    requests: readonly (AppendRequest | SerializedAppendRequest)[],
    serialized: boolean,
  ): AppendResult[] {
    const n = requests.length;
    this.pendingThrough = 0;
    // Under the write lock: every committed row (from any connection) is in the index after this.
    const known = this.catchUpEventIds();
    // Ids are added as they are checked (so a repeat within the batch is found too); appendChecked
    // removes them again if the transaction does not commit.
    const added: string[] = [];
    this.pendingIds = added;
    const eventIds: string[] = [];
    for (const r of requests) for (const e of r.events) eventIds.push(eventIdOf(e.id));
    const dup = reserveIds(known, eventIds, 1, added);
    if (dup !== undefined) throw new DuplicateEventIdError(dup);
    const startRevision = new Array<number>(n);
    const startPosition = new Array<number>(n);
    /** Each request's stream key (0 until known; see rowWriter). */
    const keys = new Array<number>(n);
    // A stream that appears more than once in the batch: the earlier request it continues from.
    const previous = new Array<number>(n);
    // The hash chain goes on from the stream's last event, or from the earlier request's last hash.
    const lastHash = new Array<string>(n);
    const pendingHashes = (this.pendingHashes = [] as (string | number)[]);
    let inBatch: Map<string, number> | undefined;
    for (let i = 0; i < n; i++) {
      const req = requests[i];
      const prev = inBatch?.get(req.streamId);
      let revision: number;
      if (prev === undefined) {
        const head = this.stStreamHead.get(req.streamId);
        revision = head ? head[0] : -1;
        startPosition[i] = head ? head[1] : 0;
        keys[i] = head ? head[2] : 0;
        previous[i] = -1;
      } else {
        revision = startRevision[prev] + requests[prev].events.length;
        previous[i] = prev;
      }
      if (req.expectedRevision !== 'any' && req.expectedRevision !== revision) {
        throw new WrongExpectedVersionError(req.streamId, req.expectedRevision, revision);
      }
      startRevision[i] = revision;
      if (n > 1) (inBatch ??= new Map()).set(req.streamId, i);
    }
    // Insert phase: rows go in request order, INSERT_CHUNK rows per statement, at the positions after the last one
    // ever used, each with its link; then the heads (see rowWriter).
    /** Position of each request's stream head once it is written (its last row, or where the stream already was). */
    const lastPosition = new Array<number>(n);
    const first = this.stNextPosition.get() as number;
    let position = first;
    const writer = rowWriter(this.rowStatements, INSERT_CHUNK, this.typeKeys);
    const parts: MetadataParts = { contextKeys: CONTEXT_KEYS, idKeys: 0, own: '', sharedKeys: 0, shared: [] };
    let k = 0; // index in eventIds
    for (let i = 0; i < n; i++) {
      const req = requests[i];
      const events = req.events;
      const streamId = req.streamId;
      let revision = startRevision[i];
      let hash = previous[i] !== -1 ? lastHash[previous[i]] : revision === -1 ? '' : lastHashOf(this.lastHashes, streamId, revision, (r) => this.stStreamHash.get(streamId, r));
      let link = previous[i] === -1 ? startPosition[i] : lastPosition[previous[i]];
      if (previous[i] !== -1) keys[i] = keys[previous[i]];
      const key = events.length > 0 ? (keys[i] = writer.stream(streamId, keys[i])) : 0;
      for (let j = 0; j < events.length; j++) {
        const e = events[j];
        const id = eventIds[k++];
        const data = serialized ? (e as SerializedEvent).data : (JSON.stringify(e.data) ?? 'null');
        // Serialized metadata is kept whole (its keys may come in any order); a layout's in parts.
        const metadata = serialized ? (e as SerializedEvent).metadata : metadataJson((e as NewEvent).metadata, id, parts);
        hash = chainHash(chainCrypto, hash, streamId, ++revision, id, e.type, data, metadata);
        const typeKey = writer.type(e.type);
        if (serialized || parts.own === '') writer.row(position, link, id, key, revision, typeKey, data, withHash(metadata, hash), 0, 0);
        else writer.row(position, link, id, key, revision, typeKey, data, withHash(parts.own, hash), parts.idKeys, contextRow(this.contextRows, this.stInsertContext, METADATA_ORDER, parts));
        link = position++;
      }
      lastPosition[i] = link;
      lastHash[i] = hash;
      if (events.length > 0) {
        pendingHashes.push(streamId, revision, hash);
        writer.head(key, revision, link);
      }
    }
    writer.finish();
    if (position > first) this.pendingThrough = position - 1;

    const results = new Array<AppendResult>(n);
    for (let i = 0; i < n; i++) {
      const position = lastPosition[i];
      results[i] = {
        streamId: requests[i].streamId,
        nextExpectedRevision: startRevision[i] + requests[i].events.length,
        position: BigInt(position),
      };
    }
    return results;
  }

  /** The shared metadata of a metadata_contexts row ({} for one that is missing: verify then names the events). */
  private readonly contextOf = (id: number): Readonly<Record<string, unknown>> => {
    let context = this.contexts.get(id);
    if (context === undefined) {
      const json = this.stContext.get(id);
      context = json === undefined ? {} : (JSON.parse(json) as Record<string, unknown>);
      if (this.contexts.size >= CONTEXTS_KEPT) this.contexts.clear();
      this.contexts.set(id, context);
    }
    return context;
  };

  private readonly toStored = (r: Row): StoredEvent => toStored(r, this.contextOf);

  streamRevision(streamId: string): Promise<number> {
    try {
      this.assertOpen();
      return Promise.resolve(this.stStreamHead.get(streamId)?.[0] ?? -1);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  async *readStream(streamId: string, options: { fromRevision?: number; maxCount?: number } = {}): AsyncGenerator<StoredEvent> {
    this.assertOpen();
    // The stream as it is now: the links are walked once (a walk per page would cost a long stream O(n²)), then the
    // rows are read a page at a time (events never change once written).
    const positions = this.streamPositions(streamId, Math.max(0, options.fromRevision ?? 0));
    const count = Math.min(positions.length, options.maxCount ?? Infinity);
    for (let at = 0; at < count; at += this.pageSize) {
      this.assertOpen();
      const rows = this.stRowsAt.all(JSON.stringify(positions.slice(at, Math.min(count, at + this.pageSize))));
      for (let i = 0; i < rows.length; i++) yield this.toStored(rows[i]);
    }
  }

  /**
   * Positions of a stream's rows from revision `from` on, in position order: along the links (STREAM_CHAIN), and where
   * the walk ended at a missing row or one without a link above `from`, the stream's rows below it by name and revision.
   */
  private streamPositions(stream: string, from: number): number[] {
    const chain = this.stStreamChain.all({ stream, from });
    const positions = chain.map((c) => c[0]);
    const last = chain[chain.length - 1];
    if (last !== undefined && last[1] > from && last[2] === null) {
      const reached = new Set(positions);
      for (const p of this.stStreamRowsBelow.all({ stream, from, below: last[1] })) if (!reached.has(p)) positions.push(p);
    }
    return positions.sort((a, b) => a - b);
  }

  async *readAll(options: ReadAllOptions = {}): AsyncGenerator<StoredEvent> {
    for (const rows of this.rowPages(options)) for (let i = 0; i < rows.length; i++) yield this.toStored(rows[i]);
  }

  /**
   * The events of `readAll`, a page at a time, without parsing metadata (see ReplayedEvent); on the replay thread
   * when many are ahead (option `replayThreadMinEvents`).
   */
  async *readAllPages(options: ReadAllOptions = {}): AsyncGenerator<ReplayedEvent[]> {
    this.assertOpen();
    const from = toNumber(options.fromPosition);
    if (options.maxCount === undefined && !this.db.memory && (this.stHead.get() ?? 0) - from >= this.replayThreadMinEvents) {
      yield* this.replayOnThread(from, options.streamPrefix);
      return;
    }
    for (const rows of this.rowPages(options)) yield rows.map(toReplayed);
  }

  private async *replayOnThread(from: number, prefix: string | undefined): AsyncGenerator<ReplayedEvent[]> {
    const pragmas = ['mmap_size', 'cache_size'].map((p) => `${p} = ${String(this.db.pragma(p, { simple: true }))}`);
    const worker = new Worker(REPLAY_WORKER_SOURCE, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), file: resolve(this.db.name), pragmas, prefix: prefix || undefined, pageSize: this.pageSize, from },
    });
    const inbox: { text: string; done: boolean }[] = [];
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    worker.on('message', (m: { text: string; done: boolean }) => {
      inbox.push(m);
      wake?.();
    });
    worker.on('error', (err) => {
      failure = err;
      wake?.();
    });
    worker.on('exit', () => {
      failure ??= new Error('replay thread exited');
      wake?.();
    });
    const streams: string[] = [];
    const types: string[] = [];
    let taken = 0;
    try {
      for (;;) {
        while (inbox.length === 0 && failure === undefined) await new Promise<void>((ok) => (wake = ok));
        const m = inbox.shift();
        if (m === undefined) throw failure;
        this.assertOpen();
        if (!m.done && ++taken === REPLAY_AHEAD / 2) {
          worker.postMessage(taken);
          taken = 0;
        }
        const flat = JSON.parse(m.text) as unknown[];
        const page = new Array<ReplayedEvent>(flat.length / REPLAY_ROW_FIELDS);
        for (let i = 0, k = 0; k < flat.length; i++, k += REPLAY_ROW_FIELDS) {
          const streamIndex = numbered(streams, flat[k + 1] as string | number);
          page[i] = {
            streamId: streams[streamIndex],
            revision: flat[k + 2] as number,
            position: BigInt(flat[k] as number),
            type: types[numbered(types, flat[k + 3] as string | number)],
            data: flat[k + 4],
            metadata: { occurredAt: flat[k + 5] as string },
            streamIndex,
          };
        }
        yield page;
        if (m.done) return;
      }
    } finally {
      void worker.terminate();
    }
  }

  private *rowPages(options: ReadAllOptions): Generator<Row[]> {
    let from = toNumber(options.fromPosition);
    let remaining = options.maxCount ?? Infinity;
    const prefix = options.streamPrefix;
    while (remaining > 0) {
      this.assertOpen();
      const limit = Math.min(this.pageSize, remaining);
      const rows = this.readPage(from, limit, prefix);
      if (rows.length > 0) yield rows;
      if (rows.length < limit) return;
      remaining -= rows.length;
      from = rows[rows.length - 1][0];
    }
  }

  /** Rows after `from` (exclusive), in position order. */
  private readPage(from: number, limit: number, prefix: string | undefined): Row[] {
    return prefix
      ? this.stReadAllPrefix.all(from, [...prefix].length, prefix, limit)
      : this.stReadAll.all(from, limit);
  }

  subscribeToAll(options: { fromPosition?: Position; streamPrefix?: string } = {}): Subscription {
    this.assertOpen();
    const sub = new SqliteSubscription(
      {
        isOpen: () => !this.closed,
        readPage: (from, limit) => {
          const prefix = options.streamPrefix;
          if (prefix) return this.prefixPageTxn(from, limit, prefix);
          const rows = this.stReadAll.all(from, limit);
          return { rows, scannedTo: rows.length > 0 ? rows[rows.length - 1][0] : from };
        },
        toStored: this.toStored,
        notifier: this.notifier,
        pageSize: this.pageSize,
        pollIntervalMs: this.pollIntervalMs,
        onClose: (s) => this.subscriptions.delete(s),
      },
      toNumber(options.fromPosition),
    );
    this.subscriptions.add(sub);
    return sub;
  }

  /** With an append thread, `existingEventIds` is answered by it once the appends asked for before are done. */
  readonly reportsPendingEventIds = true;

  /** Every append checks its ids against the index caught up under the write lock (see the class comment). */
  readonly refusesDuplicateEventIds = true;

  existingEventIds(ids: readonly string[]): Promise<Set<string>> {
    try {
      this.assertOpen();
      // The append thread's index has every row of the file and of the appends asked for before (started for this if
      // need be: then only that thread loads the ids of the file).
      const t = this.appendThread;
      if (t !== undefined) return this.askThread(t, ids);
      return Promise.resolve(this.existingEventIdsSync(ids));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /**
   * Looks the ids up in the in-memory index after catching it up with the file (one query for the rows
   * after `seenThrough`; the whole table the first time). See the class comment. The ids of appends still on the
   * append thread are not in the file yet: `existingEventIds` of a store with one asks that thread instead.
   */
  existingEventIdsSync(ids: readonly string[]): Set<string> {
    this.assertOpen();
    const known = this.catchUpEventIds();
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i++) if (known.has(ids[i])) found.add(ids[i]);
    return found;
  }

  /** Ids of the streams starting with `prefix`, in id (binary) order, where they form one range of `streams`. */
  async *listStreams(prefix: string): AsyncGenerator<string> {
    let after: string | undefined;
    for (;;) {
      this.assertOpen();
      const page = after === undefined ? this.stStreamsFrom.all(prefix, STREAM_PAGE) : this.stStreamsAfter.all(after, STREAM_PAGE);
      for (const id of page) {
        if (!id.startsWith(prefix)) return;
        yield id;
      }
      if (page.length < STREAM_PAGE) return;
      after = page[page.length - 1];
    }
  }

  /**
   * Rows written into the file behind the store: without a link (a plain INSERT), or linked where no stream head
   * reaches them. readAll delivers them, no readStream does; `crm verify` names them. One pass over every row's
   * position and link, then a walk back from each head (as readStream reads a stream, see streamPositions).
   */
  async *eventsOutsideStreams(): AsyncGenerator<StoredEvent> {
    this.assertOpen();
    const [positionsJson, linksJson] = this.db.prepare<[], [string, string]>(ROW_LINKS).raw().get() as [string, string];
    const positions = JSON.parse(positionsJson) as number[];
    const links = JSON.parse(linksJson) as (number | null)[];
    const indexOf = positionIndex(positions);
    const reached = new Uint8Array(positions.length);
    const rowsBelow: { stream: string; below: number }[] = [];
    for (const [stream, revision, head] of this.db.prepare<[], [string, number, number]>(STREAM_HEADS).raw().all()) {
      let at = head;
      for (let r = revision; r >= 0; r--) {
        const i = indexOf(at);
        if (i >= 0 && reached[i] === 1) break; // a forged loop, or a link into another stream
        if (i >= 0) reached[i] = 1;
        const previous = i < 0 ? null : links[i];
        if (previous === null) {
          // A missing row (deleted by hand) or one without a link ends the walk: readStream reads those before it by name.
          if (r > 0) rowsBelow.push({ stream, below: r });
          break;
        }
        if (previous === 0) break;
        at = previous;
      }
    }
    for (const { stream, below } of rowsBelow) for (const p of this.stStreamRowsBelow.all({ stream, from: 0, below })) reached[indexOf(p)] = 1;
    const outside = positions.filter((_, i) => reached[i] === 0);
    for (let at = 0; at < outside.length; at += this.pageSize) {
      this.assertOpen();
      for (const row of this.stRowsAt.all(JSON.stringify(outside.slice(at, at + this.pageSize)))) yield this.toStored(row);
    }
  }

  headPosition(): Promise<Position> {
    try {
      this.assertOpen();
      const head = this.stHead.get();
      return Promise.resolve(head == null ? START : BigInt(head));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /**
   * Wakes this store's caught-up subscriptions now. Appends through this class in this thread do it
   * themselves; call it after an append made elsewhere (e.g. another thread's connection to the same
   * file) instead of waiting for the next poll.
   */
  notifyAppended(): void {
    this.notifier.notify();
  }

  /** Ends every subscription of this store and closes the database. Idempotent. */
  close(): Promise<void> {
    return (this.closing ??= this.closeNow());
  }

  private async closeNow(): Promise<void> {
    const t = this.appendThread;
    if (t) await t.tail; // the appends already asked for still complete
    this.closed = true;
    if (t?.worker) {
      const worker = t.worker;
      await new Promise<void>((ok, fail) => {
        const id = ++t.next;
        t.calls.set(id, { kind: 'close', ok, fail });
        worker.postMessage({ id, close: true });
      });
      await worker.terminate();
      t.replies?.close();
      t.worker = undefined;
      t.replies = undefined;
    }
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    if (--this.notifier.users === 0 && this.notifierKey !== undefined) notifiers.delete(this.notifierKey);
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('SqliteEventStore is closed');
  }
}

interface SubscriptionPage {
  rows: Row[];
  /** Position up to which everything was read (the last row's, or further when fewer rows matched). */
  scannedTo: number;
}

interface SubscriptionSource {
  isOpen(): boolean;
  readPage(from: number, limit: number): SubscriptionPage;
  toStored(row: Row): StoredEvent;
  notifier: Notifier;
  pageSize: number;
  pollIntervalMs: number;
  onClose(sub: SqliteSubscription): void;
}

/** What prepareAppend makes of an appendMany: AppendMessage without its id and stream numbers, and the streams' names. */
type PreparedAppend = Omit<AppendMessage, 'id' | 'slots' | 'names' | 'resetSlots'> & { streamIds: string[] };

/**
 * Checks the requests and turns their data and metadata into JSON text (see appendOnThread). The arrays are
 * pushed, never made with `new Array(n)`: V8 posts an array with holes element by element, as keys and values
 * (measured: posting ~10k strings took 2.2x as long from a preallocated array).
 */
function prepareAppend(requests: readonly AppendRequest[]): PreparedAppend {
  const n = requests.length;
  const streamIds: string[] = [];
  const expected: (number | null)[] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = requests[i];
    if (typeof r.streamId !== 'string' || r.streamId.length === 0) throw new TypeError('streamId must be a non-empty string');
    checkExpected(r.expectedRevision);
    streamIds.push(r.streamId);
    expected.push(r.expectedRevision === 'any' ? null : r.expectedRevision);
    counts.push(r.events.length);
  }
  const rows: (string | number)[] = [];
  const types: string[] = [];
  const typeIndex = new Map<string, number>();
  const metadataValues: (string | number)[] = [];
  const recent: (string | number | undefined)[] = [];
  for (let i = 0; i < n; i++) {
    const events = requests[i].events;
    for (let j = 0; j < events.length; j++) {
      const e = events[j];
      let type = typeIndex.get(e.type);
      if (type === undefined) {
        type = types.push(e.type) - 1;
        typeIndex.set(e.type, type);
      }
      const id = e.id;
      // A derived id's metadata refers to no key as the id: its UUID is not known here.
      if (typeof id === 'string') rows.push(id, type, JSON.stringify(e.data) ?? 'null', metadataLayout(e.metadata, id, metadataValues, recent));
      else rows.push(v5Name(id), -1 - type, JSON.stringify(e.data) ?? 'null', metadataLayout(e.metadata, undefined, metadataValues, recent));
    }
  }
  return { streamIds, expected, counts, rows, types, metadataValues };
}

/**
 * Adds an append's event ids (every `stride`-th value of `list`) to the index, and to `added`, which the caller takes
 * out again if the append does not commit; returns the ids that were there already or came twice (the append is then
 * refused with DuplicateEventIdError), else undefined. Written without outside names: the append thread runs it from
 * its source text.
 */
function reserveIds(index: { add(id: string): boolean }, list: readonly unknown[], stride: number, added: string[]): string[] | undefined {
  let dup: Set<string> | undefined;
  for (let k = 0; k < list.length; k += stride) {
    const id = list[k] as string;
    if (index.add(id)) added.push(id);
    else (dup ??= new Set()).add(id);
  }
  return dup === undefined ? undefined : [...dup];
}

/** Catch-up then live: reads pages; when caught up, waits for an append in this process or the next poll. */
class SqliteSubscription implements Subscription {
  private closed = false;
  private wake: (() => void) | undefined;
  private readonly iterator: AsyncGenerator<StoredEvent>;

  constructor(
    private readonly source: SubscriptionSource,
    from: number,
  ) {
    this.iterator = this.run(from);
  }

  [Symbol.asyncIterator](): AsyncIterator<StoredEvent> {
    return this.iterator;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.source.onClose(this);
      this.wake?.();
    }
    return Promise.resolve();
  }

  private async *run(from: number): AsyncGenerator<StoredEvent> {
    const { notifier, pageSize } = this.source;
    try {
      while (!this.closed && this.source.isOpen()) {
        const version = notifier.version;
        const { rows, scannedTo } = this.source.readPage(from, pageSize);
        for (let i = 0; i < rows.length; i++) {
          if (this.closed) return;
          from = rows[i][0];
          yield this.source.toStored(rows[i]);
        }
        from = scannedTo;
        if (rows.length < pageSize && notifier.version === version && !this.closed) await this.waitForAppend();
      }
    } finally {
      void this.close();
    }
  }

  private waitForAppend(): Promise<void> {
    return new Promise((resolveWait) => {
      const done = (): void => {
        clearTimeout(timer);
        this.source.notifier.waiters.delete(done);
        this.wake = undefined;
        resolveWait();
      };
      const timer = setTimeout(done, this.source.pollIntervalMs);
      this.source.notifier.waiters.add(done);
      this.wake = done;
    });
  }
}
