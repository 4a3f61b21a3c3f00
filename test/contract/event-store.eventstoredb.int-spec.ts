/**
 * The EventStore contract suite against a real EventStoreDB (or KurrentDB) server, when `EVENTSTORE_URL`
 * points at one (e.g. `esdb://127.0.0.1:2113?tls=false`). EventStoreDB cannot be installed on the
 * development machines, so without it the suite is reported as one skipped test saying why.
 *
 * Streams get a random prefix per test, so the suite runs against a server that holds other data.
 */
import { EventStoreDbEventStore } from '@crm/event-store';
import { describeEventStoreContract } from './event-store.contract';

const url = process.env.EVENTSTORE_URL?.trim();

if (url) {
  describeEventStoreContract('EventStoreDbEventStore', { open: async () => EventStoreDbEventStore.connect(url) }, {
    // appendMany goes stream by stream, and the server does not reject an event id recorded on another stream.
    atomicBatches: false,
    rejectsDuplicateEventIds: false,
    deliveryTimeoutMs: 10_000,
    quietMs: 1_000,
  });
} else {
  const reason = 'EVENTSTORE_URL is not set (EventStoreDB cannot be installed on this machine)';
  process.stderr.write(`EventStoreDB contract suite skipped: ${reason}\n`);
  describe('EventStore contract: EventStoreDbEventStore', () => {
    it.skip(`EventStoreDB contract suite skipped: ${reason}`, () => undefined);
  });
}
