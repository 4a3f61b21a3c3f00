import { existsSync } from 'fs';
import { join } from 'path';
import { Worker } from 'worker_threads';
import { AppendRequest, AppendResult, EventStore, ExpectedRevision, NewEvent, Position, ReadAllOptions, StoredEvent, Subscription, WrongExpectedVersionError } from './port';
import { DuplicateEventIdError, SqliteEventStore, SqliteEventStoreOptions } from './sqlite-event-store';

const WORKER_JS = join(__dirname, 'sqlite-append-worker.js');

/**
 * The SQLite store with its appends on a worker thread: serialising and inserting run on the second
 * core while the caller decides the next batch. Reads stay on this thread's own connection (WAL lets
 * them run beside the writer). Where the compiled worker is not available (tests run from TypeScript
 * sources) it appends in-thread: same behaviour, one core.
 */
export class ThreadedSqliteEventStore implements EventStore {
  private readonly worker: Worker | null;
  private readonly calls = new Map<number, { ok: (v: any) => void; fail: (e: Error) => void }>();
  private next = 0;

  private constructor(
    private readonly reader: SqliteEventStore,
    file: string,
    options: SqliteEventStoreOptions,
  ) {
    this.worker = existsSync(WORKER_JS) ? new Worker(WORKER_JS, { workerData: { file, options } }) : null;
    this.worker?.on('message', (m: { id: number; results?: AppendResult[]; error?: Record<string, any>; closed?: boolean }) => {
      const call = this.calls.get(m.id);
      if (!call) return;
      this.calls.delete(m.id);
      if (m.error) call.fail(rebuildError(m.error));
      else call.ok(m.results ?? m.closed);
    });
    this.worker?.on('error', (err) => {
      for (const c of this.calls.values()) c.fail(err);
      this.calls.clear();
    });
  }

  static open(file: string, options: SqliteEventStoreOptions = {}): ThreadedSqliteEventStore {
    return new ThreadedSqliteEventStore(SqliteEventStore.open(file, options), file, options);
  }

  private call<T>(msg: object): Promise<T> {
    const id = ++this.next;
    return new Promise<T>((ok, fail) => {
      this.calls.set(id, { ok, fail });
      (this.worker as Worker).postMessage({ id, ...msg });
    });
  }

  append(streamId: string, events: NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    return this.appendMany([{ streamId, events, expectedRevision }]).then((r) => r[0]);
  }

  appendMany(requests: AppendRequest[]): Promise<AppendResult[]> {
    if (!this.worker) return this.reader.appendMany(requests);
    return this.call<AppendResult[]>({ requests });
  }

  streamRevision(streamId: string): Promise<number> {
    return this.reader.streamRevision(streamId);
  }
  readStream(streamId: string, options?: { fromRevision?: number; maxCount?: number }): AsyncIterable<StoredEvent> {
    return this.reader.readStream(streamId, options);
  }
  readAll(options?: ReadAllOptions): AsyncIterable<StoredEvent> {
    return this.reader.readAll(options);
  }
  subscribeToAll(options?: { fromPosition?: Position; streamPrefix?: string }): Subscription {
    return this.reader.subscribeToAll(options);
  }
  existingEventIds(ids: readonly string[]): Promise<Set<string>> {
    return this.reader.existingEventIds(ids);
  }
  listStreams(prefix: string): AsyncIterable<string> {
    return this.reader.listStreams(prefix);
  }
  headPosition(): Promise<Position> {
    return this.reader.headPosition();
  }

  async close(): Promise<void> {
    if (this.worker) {
      await this.call({ close: true });
      await this.worker.terminate();
    }
    await this.reader.close();
  }
}

function rebuildError(e: Record<string, any>): Error {
  if (e.name === 'WrongExpectedVersionError') return new WrongExpectedVersionError(e.streamId, e.expected, e.actual);
  if (e.name === 'DuplicateEventIdError') return new DuplicateEventIdError(e.eventIds ?? []);
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}
