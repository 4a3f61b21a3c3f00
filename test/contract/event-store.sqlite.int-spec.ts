import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { SqliteEventStore } from '@crm/event-store';
import { describeEventStoreContract } from './event-store.contract';

function tempStore(options: Parameters<typeof SqliteEventStore.open>[1] = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'crm-es-contract-'));
  const file = join(dir, 'nested', 'events.db'); // open() creates the directory
  return {
    open: async () => SqliteEventStore.open(file, options),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

describeEventStoreContract('SqliteEventStore', tempStore(), { atomicBatches: true });

// Tiny pages and a fast poll: every read crosses page boundaries.
describeEventStoreContract('SqliteEventStore (pageSize 2)', tempStore({ pageSize: 2, pollIntervalMs: 20 }), {
  atomicBatches: true,
});

// As the embedded write side opens it: appends on the store's worker thread.
describeEventStoreContract('SqliteEventStore (append thread)', tempStore({ appendThread: true }), { atomicBatches: true });
