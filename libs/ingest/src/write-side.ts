import { join } from 'path';
import { EventStore, SqliteEventStore } from '@crm/event-store';
import { CustomerWriter } from './customer-writer';
import { IngestPipeline } from './ingest-pipeline';
import { PeriodRegistry } from './period-registry';
import { PolicyRegistry } from './policy-registry';
import { Quarantine, SqliteQuarantine } from './quarantine';

/** The write side wired together: one store, one writer (its state cache), one pipeline. */
export interface WriteSide {
  store: EventStore;
  writer: CustomerWriter;
  periods: PeriodRegistry;
  policies: PolicyRegistry;
  quarantine: Quarantine;
  pipeline: IngestPipeline;
  close(): Promise<void>;
}

export function createWriteSide(store: EventStore, quarantine: Quarantine): WriteSide {
  const policies = new PolicyRegistry(store);
  const writer = new CustomerWriter(store, policies);
  const periods = new PeriodRegistry(store);
  const pipeline = new IngestPipeline(store, writer, periods, quarantine);
  return {
    store,
    writer,
    periods,
    policies,
    quarantine,
    pipeline,
    async close() {
      quarantine.close();
      await store.close();
    },
  };
}

/** The embedded default: SQLite files under the data directory. */
export function openEmbeddedWriteSide(dataDir: string): WriteSide {
  // Appends on the store's worker thread: the pipeline decides the next batch while SQLite writes this one.
  return createWriteSide(SqliteEventStore.open(join(dataDir, 'events.sqlite'), { appendThread: true }), new SqliteQuarantine(join(dataDir, 'quarantine.sqlite')));
}
