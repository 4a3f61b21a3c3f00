import type Database from 'better-sqlite3';

/**
 * A row written into an embedded store's file behind the store (a tool or a forger with plain SQL), by stream and type
 * name: the names get keys as SQLite would let anyone give them (schema 7 keeps keys in the rows). `previous` is the
 * row's link (omitted: none, as a plain INSERT leaves it).
 */
export function insertBehindTheStore(
  db: Database.Database,
  row: { position?: number; eventId: string; stream: string; revision: number; type: string; data: string; metadata: string; previous?: number },
): number {
  db.prepare('INSERT INTO streams (stream_id, id) SELECT @stream, (SELECT coalesce(max(id), 0) + 1 FROM streams) WHERE NOT EXISTS (SELECT 1 FROM streams WHERE stream_id = @stream)').run({ stream: row.stream });
  db.prepare('INSERT OR IGNORE INTO event_types (name) VALUES (?)').run(row.type);
  const result = db
    .prepare(
      `INSERT INTO events (position, event_id, stream_key, revision, type_key, data, metadata, previous)
       VALUES (@position, @eventId, (SELECT id FROM streams WHERE stream_id = @stream), @revision, (SELECT id FROM event_types WHERE name = @type), @data, @metadata, @previous)`,
    )
    .run({ position: null, previous: null, ...row });
  return Number(result.lastInsertRowid);
}

/** Rows by stream and type name, as the store reads them (for specs that pick rows to change by hand). */
export const NAMED_EVENTS = 'SELECT e.*, s.stream_id, t.name AS type FROM events e JOIN streams s ON s.id = e.stream_key JOIN event_types t ON t.id = e.type_key';
