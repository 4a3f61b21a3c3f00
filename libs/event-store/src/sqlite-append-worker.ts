import { parentPort, workerData } from 'worker_threads';
import type { AppendRequest } from './port';
import { SqliteEventStore } from './sqlite-event-store';

/** Runs the appends of a ThreadedSqliteEventStore on its own connection, off the main thread. */
const store = SqliteEventStore.open(workerData.file as string, workerData.options);
parentPort?.on('message', (msg: { id: number; requests?: AppendRequest[]; close?: boolean }) => {
  if (msg.close) {
    void store.close().then(() => parentPort?.postMessage({ id: msg.id, closed: true }));
    return;
  }
  try {
    const results = store.appendManySync(msg.requests ?? []);
    parentPort?.postMessage({ id: msg.id, results });
  } catch (err) {
    const e = err as Error & Record<string, unknown>;
    parentPort?.postMessage({ id: msg.id, error: { name: e.name, message: e.message, streamId: e.streamId, expected: e.expected, actual: e.actual, eventIds: e.eventIds } });
  }
});
