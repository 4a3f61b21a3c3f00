/**
 * Kafka → event store → MongoDB end to end (issue 4 point 8), on the real broker and FerretDB of
 * scripts/servers/start.sh: a generated history (generate-events.ts) is produced to one topic keyed by
 * customerId, then apps/ingest (embedded SQLite store) and apps/projector (every view → MongoDB) run as
 * separate processes, as deployed. Measured: from starting both until every event is in the store and the
 * views' checkpoints reach the store's head. `npm run bench:servers` (builds, starts and stops the servers).
 *
 * Env: BENCH_KAFKA_EVENTS (300000: long enough that the start of the two processes and the last catch-up do not dominate), BENCH_KAFKA_CUSTOMERS (1000), KAFKA_BROKERS, MONGO_URL, KAFKA_MAX_BYTES
 * (ingest fetch size, 50 MiB), KAFKA_MAX_BYTES_PER_PARTITION (16 MiB), KAFKA_PARTITIONS_CONCURRENTLY (3), MONGO_BULK_MODE of the projector (delete-insert:
 * FerretDB v1; replace for MongoDB). Writes bench-kafka-mongo.json.
 */
import { spawn, type ChildProcess } from 'child_process';
import { randomUUID } from 'crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { cpus, loadavg, tmpdir } from 'os';
import { join } from 'path';
import { logLevel } from 'kafkajs';
import { SqliteEventStore } from '@crm/event-store';
import { createKafka, dlqTopic, KafkaUpstreamProducer, parseBrokers } from '@crm/messaging';
import { ReadSideReader } from '@crm/projections';
import { MongoReadModelStore } from '@crm/read-model';
import { writeBenchFile } from './generate-events';

const DIST = join(__dirname, '../..');

export interface KafkaMongoBenchReport {
  events: number;
  customers: number;
  recordedEvents: number;
  produceMs: number;
  ingestMs: number;
  endToEndMs: number;
  /** Upstream events per second, Kafka → store → MongoDB. */
  eventsPerSecond: number;
  ingestEventsPerSecond: number;
  projectorCatchUpAfterIngestMs: number;
  bulkMode: string;
  loadAverage: number[];
  cpus: number;
}

/** Node flags of the deployables as docker-compose.yml runs them (a larger young generation: see there). */
const NODE_FLAGS = ['--max-semi-space-size=64'];

function child(main: string, env: Record<string, string>): { proc: ChildProcess; output: () => string } {
  let out = '';
  const proc = spawn(process.execPath, [...NODE_FLAGS, main], { env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
  proc.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
  return { proc, output: () => out };
}

async function until(what: string, timeoutMs: number, probe: () => Promise<boolean>, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export async function runKafkaMongoBench(events = Number(process.env.BENCH_KAFKA_EVENTS ?? 300_000), customers = Number(process.env.BENCH_KAFKA_CUSTOMERS ?? 1000)): Promise<KafkaMongoBenchReport> {
  const brokers = parseBrokers(process.env.KAFKA_BROKERS ?? '127.0.0.1:19092');
  const mongoUrl = process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017';
  const run = randomUUID().slice(0, 8);
  const dir = mkdtempSync(join(tmpdir(), 'crm-bench-kafka-'));
  const dataDir = join(dir, 'data');
  const db = `crm_bench_${run}`;
  const topic = `crm-bench-${run}.upstream`;
  const kafka = createKafka({ brokers, clientId: `crm-bench-${run}`, level: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const procs: ReturnType<typeof child>[] = [];
  try {
    const file = join(dir, 'events.ndjson');
    await writeBenchFile(file, events, customers, 42);
    const values = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
    const ids = values.map((l) => (JSON.parse(l) as { eventId: string }).eventId);
    await admin.createTopics({ waitForLeaders: true, topics: [topic, dlqTopic(topic)].map((t) => ({ topic: t, numPartitions: 3, replicationFactor: 1 })) });
    let t = Date.now();
    const producer = new KafkaUpstreamProducer({ kafka, topics: { customers: topic, shipments: topic, payments: topic, complaints: topic }, batchSize: 5000 });
    await producer.connect();
    await producer.publish(values.map((value, i) => ({ line: i + 1, value })));
    await producer.disconnect();
    const produceMs = Date.now() - t;
    process.stderr.write(`produced ${events} events to ${topic} in ${produceMs} ms\n`);

    t = Date.now();
    procs.push(
      child(join(DIST, 'apps/ingest/src/main.js'), {
        KAFKA_BROKERS: brokers.join(','),
        KAFKA_GROUP_ID: `crm-bench-${run}`,
        KAFKA_TOPICS: topic,
        CRM_DATA_DIR: dataDir,
        INGEST_HTTP_PORT: '0',
        // Large fetches: fewer, larger batches (one store transaction each). Measured 100k events / 1,000
        // customers: 10 MiB / 4 MiB per partition 7,085 events/s end to end, 50 MiB / 16 MiB 10,987 events/s.
        KAFKA_MAX_BYTES: process.env.KAFKA_MAX_BYTES ?? String(50 * 1024 * 1024),
        KAFKA_MAX_BYTES_PER_PARTITION: process.env.KAFKA_MAX_BYTES_PER_PARTITION ?? String(16 * 1024 * 1024),
        KAFKA_PARTITIONS_CONCURRENTLY: process.env.KAFKA_PARTITIONS_CONCURRENTLY ?? '3',
      }),
      child(join(DIST, 'apps/projector/src/main.js'), { CRM_DATA_DIR: dataDir, MONGO_URL: mongoUrl, MONGO_DB: db, PROJECTOR_HTTP_PORT: '0', MONGO_BULK_MODE: process.env.MONGO_BULK_MODE ?? 'delete-insert' }),
    );
    for (const p of procs) p.proc.once('exit', (code) => code !== 0 && code !== null && process.stderr.write(`a child exited with ${code}:\n${p.output()}\n`));
    const store = SqliteEventStore.open(join(dataDir, 'events.sqlite'));
    const last = ids[ids.length - 1];
    let ingestMs = 0;
    try {
      // The last event of each partition arrives last in it; all present = everything ingested.
      await until('every event in the store', 30 * 60_000, async () => (await store.existingEventIds([last])).size === 1 && (await store.existingEventIds(ids)).size === ids.length, 200);
      ingestMs = Date.now() - t;
      const head = await store.headPosition();
      process.stderr.write(`ingested ${events} events (${head} recorded) in ${ingestMs} ms; waiting for the projector\n`);
      const readModel = await MongoReadModelStore.connect(mongoUrl, db);
      const reader = await ReadSideReader.open(store, readModel, { refreshMs: 100 });
      await until('the views at the head', 30 * 60_000, async () => reader.waitFor(head, 1000));
      const endToEndMs = Date.now() - t;
      await reader.close();
      await readModel.close();
      return {
        events,
        customers,
        recordedEvents: Number(head),
        produceMs,
        ingestMs,
        endToEndMs,
        eventsPerSecond: Math.round((events * 1000) / endToEndMs),
        ingestEventsPerSecond: Math.round((events * 1000) / ingestMs),
        projectorCatchUpAfterIngestMs: endToEndMs - ingestMs,
        bulkMode: process.env.MONGO_BULK_MODE ?? 'delete-insert',
        loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
        cpus: cpus().length,
      };
    } finally {
      await store.close();
    }
  } finally {
    for (const p of procs) p.proc.kill('SIGTERM');
    await admin.deleteTopics({ topics: [topic, dlqTopic(topic)] }).catch(() => undefined);
    await admin.disconnect();
    const { MongoClient } = await import('mongodb');
    const c = await MongoClient.connect(mongoUrl).catch(() => null);
    await c?.db(db).dropDatabase().catch(() => undefined);
    await c?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runKafkaMongoBench()
    .then((r) => {
      writeFileSync('bench-kafka-mongo.json', JSON.stringify(r, null, 2) + '\n');
      process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      process.exit(0);
    })
    .catch((err: unknown) => {
      process.stderr.write(`kafka-mongo bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    });
}
