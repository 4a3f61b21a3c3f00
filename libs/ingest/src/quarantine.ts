import { createHash } from 'crypto';
import { mkdirSync } from 'fs';
import { dirname } from 'path';
import Database from 'better-sqlite3';

export interface Rejection {
  /** 1-based line (or array index + 1) in the input it came from. */
  line: number;
  eventId?: string;
  errors: string[];
}

export interface QuarantinedMessage {
  id: number;
  receivedAt: string;
  source: string;
  line: number;
  eventId: string | null;
  errors: string[];
  raw: string;
}

/** Rejected input is never dropped: it is kept here, with the raw text and the reasons, for auditors to list. */
export interface Quarantine {
  put(entries: { source: string; line: number; eventId?: string; errors: string[]; raw: string }[]): void;
  list(options?: { limit?: number; offset?: number }): QuarantinedMessage[];
  count(): number;
  close(): void;
}

/** SQLite-backed quarantine; the same raw message from the same source is kept once however often it is re-sent. */
export class SqliteQuarantine implements Quarantine {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS quarantine (
      id INTEGER PRIMARY KEY AUTOINCREMENT, received_at TEXT NOT NULL, source TEXT NOT NULL, line INTEGER NOT NULL,
      event_id TEXT, errors TEXT NOT NULL, raw TEXT NOT NULL, raw_hash TEXT NOT NULL, UNIQUE(source, raw_hash))`);
    this.insert = this.db.prepare(
      'INSERT OR IGNORE INTO quarantine (received_at, source, line, event_id, errors, raw, raw_hash) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
  }

  put(entries: { source: string; line: number; eventId?: string; errors: string[]; raw: string }[]): void {
    if (entries.length === 0) return;
    const at = new Date().toISOString();
    this.db.transaction(() => {
      for (const e of entries) {
        const hash = createHash('sha256').update(e.raw).digest('hex');
        this.insert.run(at, e.source, e.line, e.eventId ?? null, JSON.stringify(e.errors), e.raw, hash);
      }
    })();
  }

  list({ limit = 100, offset = 0 }: { limit?: number; offset?: number } = {}): QuarantinedMessage[] {
    const rows = this.db
      .prepare('SELECT id, received_at, source, line, event_id, errors, raw FROM quarantine ORDER BY id LIMIT ? OFFSET ?')
      .all(limit, offset) as { id: number; received_at: string; source: string; line: number; event_id: string | null; errors: string; raw: string }[];
    return rows.map((r) => ({ id: r.id, receivedAt: r.received_at, source: r.source, line: r.line, eventId: r.event_id, errors: JSON.parse(r.errors), raw: r.raw }));
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM quarantine').get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}
