import { CUSTOMER_STREAM_PREFIX, EventStore } from '@crm/event-store';

/** Every customer the store knows, in batches (customer ids, not stream names). */
export async function* customerIdBatches(store: EventStore, size = 1000): AsyncGenerator<string[]> {
  let batch: string[] = [];
  for await (const stream of store.listStreams(CUSTOMER_STREAM_PREFIX)) {
    batch.push(stream.slice(CUSTOMER_STREAM_PREFIX.length));
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}
