/**
 * Micro-benchmark of SqliteEventStore, run by hand (not part of `npm run bench`):
 *   npm run build && node dist/test/bench/event-store.bench.js [events=1000000] [dir=<temp>]
 *
 * 1. appendMany of `events` shipment-like events (~300-byte data, ~250-byte metadata) in batches of
 *    2,000 = 500 streams x 4 events, streams drawn from 20,000 customers, expected revisions tracked
 *    like the write side does; then existingEventIds, readAll, readAll by prefix, listStreams.
 * 2. The same count of small events (~30-byte data), appended then read back with readAll.
 */
import { mkdtempSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { randomUUID } from 'crypto';
import type { EventMetadata } from '@crm/contracts';
import { SqliteEventStore, type AppendRequest, type NewEvent } from '@crm/event-store';

const STREAMS_PER_BATCH = 500;
const EVENTS_PER_STREAM = 4;
const CUSTOMERS = 20_000;

let rng = 12345;
const random = (): number => (rng = (Math.imul(rng, 1103515245) + 12345) >>> 0) / 2 ** 32;
const customerId = (): string => `C${String(Math.floor(random() * CUSTOMERS)).padStart(6, '0')}`;

function metadata(id: string, at: string, big: boolean): EventMetadata {
  return big
    ? { upstreamEventId: id, correlationId: randomUUID(), causationId: id, occurredAt: at, recordedAt: at, schemaVersion: 1, source: 'kafka:shipments' }
    : { correlationId: id, causationId: id, occurredAt: at, recordedAt: at, schemaVersion: 1 };
}

function shipment(n: number, customer: string): NewEvent {
  const id = randomUUID();
  const at = new Date(Date.UTC(2025, 0, 1) + n * 60_000).toISOString();
  return {
    id,
    type: 'ShipmentPickedUp',
    data: {
      customerId: customer,
      shipmentId: `SHP${String(n).padStart(12, '0')}`,
      occurredAt: at,
      origin: { city: 'Shenzhen', district: 'Nanshan' },
      destination: { city: 'Hangzhou', district: 'Xihu' },
      weightGrams: 1000 + (n % 5000),
      serviceLevel: n % 3 === 0 ? 'EXPRESS' : 'STANDARD',
      freightFen: 1200 + (n % 900),
      discountFen: n % 50,
      codFen: 0,
    },
    metadata: metadata(id, at, true),
  };
}

function small(n: number, customer: string): NewEvent {
  const id = randomUUID();
  const at = new Date(Date.UTC(2025, 0, 1) + n * 60_000).toISOString();
  return { id, type: 'Ping', data: { n, customer }, metadata: metadata(id, at, false) };
}

async function appendAll(store: SqliteEventStore, total: number, make: (n: number, customer: string) => NewEvent): Promise<void> {
  const revisions = new Map<string, number>();
  let seq = 0;
  let ms = 0;
  let sliceMs = 0;
  let sliceStart = 0;
  const slices: string[] = [];
  while (seq < total) {
    const requests: AppendRequest[] = [];
    const used = new Set<string>();
    while (requests.length < STREAMS_PER_BATCH && seq < total) {
      const customer = customerId();
      const streamId = `customer-${customer}`;
      if (used.has(streamId)) continue;
      used.add(streamId);
      const events: NewEvent[] = [];
      for (let k = 0; k < EVENTS_PER_STREAM && seq < total; k++) events.push(make(seq++, customer));
      requests.push({ streamId, events, expectedRevision: revisions.get(streamId) ?? -1 });
    }
    const t0 = performance.now();
    const results = await store.appendMany(requests);
    const dt = performance.now() - t0;
    ms += dt;
    sliceMs += dt;
    for (const r of results) revisions.set(r.streamId, r.nextExpectedRevision);
    if (seq - sliceStart >= total / 5 || seq === total) {
      slices.push(`${Math.round((seq - sliceStart) / (sliceMs / 1000) / 1000)}k`);
      sliceStart = seq;
      sliceMs = 0;
    }
  }
  const sample = make(0, 'C000000');
  const bytes = `${JSON.stringify(sample.data).length} + ${JSON.stringify(sample.metadata).length}`;
  console.log(
    `  appendMany: ${total} events (data + metadata JSON ${bytes} bytes) in ${ms.toFixed(0)} ms = ` +
      `${Math.round(total / (ms / 1000))} events/s (per fifth: ${slices.join(' ')})`,
  );
}

async function readAllRate(store: SqliteEventStore, label: string, options = {}): Promise<void> {
  for (let round = 0; round < 2; round++) {
    const t0 = performance.now();
    let count = 0;
    for await (const _e of store.readAll(options)) count++;
    const ms = performance.now() - t0;
    console.log(`  ${label}: ${count} events in ${ms.toFixed(0)} ms = ${Math.round(count / (ms / 1000))} events/s`);
  }
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 1_000_000);
  const dir = process.argv[3] ?? mkdtempSync(join(tmpdir(), 'es-bench-'));

  console.log('shipment events');
  const file = join(dir, 'shipments.db');
  const store = SqliteEventStore.open(file);
  await appendAll(store, total, shipment);
  console.log(`  file ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB`);

  const known: string[] = [];
  for await (const e of store.readAll({ maxCount: 1000, fromPosition: BigInt(Math.floor(total / 2)) })) known.push(e.id);
  const ids = [...known.slice(0, 500), ...Array.from({ length: 500 }, () => randomUUID())];
  let t0 = performance.now();
  let found = 0;
  for (let r = 0; r < 20; r++) found = (await store.existingEventIds(ids)).size;
  console.log(`  existingEventIds(1,000 ids, ${found} recorded): ${((performance.now() - t0) / 20).toFixed(2)} ms per call`);

  await readAllRate(store, 'readAll');
  await readAllRate(store, "readAll({ streamPrefix: 'customer-C001' }) (5% match)", { streamPrefix: 'customer-C001' });

  t0 = performance.now();
  let streams = 0;
  for await (const _s of store.listStreams('customer-')) streams++;
  console.log(`  listStreams: ${streams} streams in ${(performance.now() - t0).toFixed(0)} ms`);
  await store.close();

  console.log('small events');
  const smallStore = SqliteEventStore.open(join(dir, 'small.db'));
  await appendAll(smallStore, total, small);
  await readAllRate(smallStore, 'readAll');
  await smallStore.close();

  if (process.argv[3] === undefined) rmSync(dir, { recursive: true, force: true });
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
