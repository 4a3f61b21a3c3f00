/**
 * The production stack end to end on the real servers of scripts/servers/start.sh (Kafka on
 * 127.0.0.1:19092, FerretDB on 127.0.0.1:27017; KAFKA_BROKERS / MONGO_URL override), issue 4 points 4 and 7:
 *
 *   generated history → Kafka → apps/ingest (embedded SQLite store; killed with SIGKILL mid-stream and
 *   restarted) → apps/projector (child process) → FerretDB → the API (ReadSideReader) = the embedded run
 *
 * and several projector instances under one lease. The apps run as child processes from the build
 * (`npm run build` first; CRM_DIST_DIR points elsewhere). Every test has its own topics, group, data
 * directories and database; every wait is bounded.
 */
import type { ChildProcess } from 'child_process';
import { randomUUID } from 'crypto';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { createServer } from 'net';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { logLevel, type Admin, type Kafka, type KafkaMessage } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { loadApiTokens } from '@crm/config';
import type { StoredEvent } from '@crm/event-store';
import { openEmbeddedWriteSide, type RawInput, type WriteSide } from '@crm/ingest';
import { createKafka, DLQ_HEADERS, dlqTopic, KafkaUpstreamProducer, parseBrokers, type TopicNames } from '@crm/messaging';
import { customer360, ReadSide, ReadSideReader, type ReadView } from '@crm/projections';
import { MemoryReadModelStore, MongoReadModelStore, type ReadModelStore } from '@crm/read-model';
import { createApp } from '../../apps/api/src/bootstrap';
import { writeBenchFile } from '../bench/generate-events';
import { allEvents, checkBuilt as checkBuiltFiles, countPresent, startChild as startApp, stopChild, waitFor as waitUntil, type Child } from '../support/servers';

const BROKERS = parseBrokers(process.env.KAFKA_BROKERS ?? '127.0.0.1:19092');
const MONGO_URL = process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017';
const RUN = randomUUID().slice(0, 8);
const ROOT = resolve(__dirname, '../..');
const DIST = process.env.CRM_DIST_DIR ?? join(ROOT, 'dist');
const INGEST_MAIN = join(DIST, 'apps/ingest/src/main.js');
const PROJECTOR_MAIN = join(DIST, 'apps/projector/src/main.js');
const ADMIN = 'tok-admin-servers';

let kafka: Kafka;
let admin: Admin;
let mongo: MongoClient;
let serverError: Error | undefined;
const createdTopics: string[] = [];
const databases: string[] = [];
const tempDirs: string[] = [];
const children = new Set<ChildProcess>();
const closers: (() => Promise<unknown>)[] = [];

// ---------------------------------------------------------------------------------------------- helpers

const step = (msg: string) => {
  if (process.env.CRM_SPEC_VERBOSE) process.stderr.write(`[stack ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
};

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>, intervalMs = 100): Promise<T> {
  step(`waiting for ${what}`);
  return waitUntil(what, timeoutMs, probe, intervalMs);
}

function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `crm-stack-${name}-`));
  tempDirs.push(dir);
  return dir;
}

function database(name: string): string {
  const db = `crm_${RUN}_${name}`;
  databases.push(db);
  return db;
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

interface ProjectorStatus {
  role: string;
  position: string;
  commits: number;
  terms: number;
}

/** A projector child process on its own /metrics port. */
async function startProjector(dataDir: string, db: string, id: string): Promise<Child & { status: () => Promise<ProjectorStatus> }> {
  const port = await freePort();
  const child = startApp(PROJECTOR_MAIN, {
    CRM_DATA_DIR: dataDir,
    MONGO_URL,
    MONGO_DB: db,
    PROJECTOR_INSTANCE_ID: id,
    PROJECTOR_HTTP_PORT: String(port),
    PROJECTOR_LEASE_TTL_MS: '3000',
    PROJECTOR_LEASE_RENEW_MS: '500',
  }, children);
  const status = async () => {
    const r = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
    return (await r.json()) as ProjectorStatus;
  };
  await waitFor(`projector ${id} to answer on :${port}`, 30_000, async () => (await status()).role !== undefined).catch((err: Error) => {
    throw new Error(`${err.message}\n${child.output().slice(-3000)}`);
  });
  return { ...child, status };
}

/** The generated history (test/bench/generate-events.ts: registrations, shipments, payments, complaints), as objects. */
async function history(count: number, customers: number, seed: number): Promise<Record<string, unknown>[]> {
  const file = join(tempDir('history'), 'events.ndjson');
  await writeBenchFile(file, count, customers, seed);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const items = (events: Record<string, unknown>[], from = 0): RawInput[] => events.map((value, i) => ({ line: from + i + 1, value }));

/** Event ids per stream, in stream order. */
function byStream(events: StoredEvent[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of events) (out[e.streamId] ??= []).push(e.id);
  return out;
}

/** JSON with object keys sorted at every level (documents compare independent of key order). */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}

/** Every view's documents (sorted by _id, keys sorted), by view name. */
async function dumpViews(rs: ReadView): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const e of rs.entries().sort((a, b) => a._id.localeCompare(b._id))) out[e._id] = (await rs.readModel.find(e.collection, {}, { sort: { _id: 1 } })).map(canonical);
  return out;
}

/** Position fields say where in the log a document was made; the Kafka path interleaves customers differently. */
function withoutPositions(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutPositions);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v as object).filter(([k]) => !/position/i.test(k)).map(([k, x]) => [k, withoutPositions(x)]));
  return v;
}

async function mongoStore(db: string): Promise<ReadModelStore> {
  const s = await MongoReadModelStore.connect(MONGO_URL, db);
  closers.push(() => s.close());
  return s;
}

/** The embedded-only reference: the same events through the pipeline in one go, projected into memory. */
async function embeddedRun(events: Record<string, unknown>[][]): Promise<{ w: WriteSide; rs: ReadSide }> {
  const w = openEmbeddedWriteSide(join(tempDir('reference'), 'data'));
  let line = 0;
  for (const chunk of events) {
    const r = await w.pipeline.ingest(items(chunk, line), { source: 'reference' });
    expect(r).toMatchObject({ accepted: chunk.length, rejected: 0 });
    line += chunk.length;
  }
  const rs = await ReadSide.open(w.store, new MemoryReadModelStore(), { live: false });
  closers.push(async () => {
    await rs.close();
    await w.close();
  });
  return { w, rs };
}

beforeAll(async () => {
  try {
    kafka = createKafka({ brokers: BROKERS, clientId: `crm-stack-spec-${RUN}`, level: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    await admin.listTopics();
  } catch (err) {
    serverError = new Error(`Kafka broker not reachable at ${BROKERS.join(',')} (${(err as Error).message}); start it with scripts/servers/start.sh kafka`);
    return;
  }
  try {
    mongo = await MongoClient.connect(MONGO_URL, { serverSelectionTimeoutMS: 5000 });
    await mongo.db('admin').command({ ping: 1 });
  } catch (err) {
    serverError = new Error(`MongoDB/FerretDB not reachable at ${MONGO_URL} (${(err as Error).message}); start it with scripts/servers/start.sh ferretdb`);
  }
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const close of closers.reverse()) await close().catch(() => undefined);
  if (admin !== undefined) {
    if (createdTopics.length) await admin.deleteTopics({ topics: createdTopics, timeout: 10_000 }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
  if (mongo !== undefined) {
    for (const db of databases) await mongo.db(db).dropDatabase().catch(() => undefined);
    await mongo.close();
  }
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------- tests

describe('production stack on real servers', () => {
  it('Kafka → ingest (killed mid-stream, restarted) → projector → FerretDB → API gives the Customer 360 documents of the embedded run; nothing lost or applied twice; malformed messages in <topic>.dlq', async () => {
    if (serverError) throw serverError;
    checkBuiltFiles([INGEST_MAIN, PROJECTOR_MAIN]);
    // One topic keyed by customerId: each customer's events keep their order, so the embedded run (file
    // order) is comparable customer by customer.
    const topic = `crm-${RUN}-e2e.upstream`;
    await admin.createTopics({ waitForLeaders: true, topics: [topic, dlqTopic(topic)].map((t) => ({ topic: t, numPartitions: 3, replicationFactor: 1 })) });
    createdTopics.push(topic, dlqTopic(topic));
    const topics: TopicNames = { customers: topic, shipments: topic, payments: topic, complaints: topic };
    const events = await history(3000, 150, 11);
    const ids = events.map((e) => e.eventId as string);
    const half = Math.floor(events.length / 2);

    const producer = new KafkaUpstreamProducer({ kafka, topics, batchSize: 200 });
    await producer.connect();
    const raw = kafka.producer();
    await raw.connect();
    const malformed = [
      '{"eventId": "not json',
      JSON.stringify({ ...events[5], eventId: randomUUID(), data: { ...(events[5].data as object), freightFen: -5 }, type: 'ShipmentPickedUp' }),
      JSON.stringify({ eventId: randomUUID(), type: 'ParcelTeleported', occurredAt: '2025-03-01T10:00:00+08:00', customerId: 'B000001', data: {} }),
    ];
    try {
      expect(await producer.publish(items(events.slice(0, half)))).toMatchObject({ published: half, skipped: 0 });
      await raw.send({ topic, acks: -1, messages: malformed.map((value) => ({ key: 'B000001', value })) });
      expect(await producer.publish(items(events.slice(half), half))).toMatchObject({ published: events.length - half, skipped: 0 });
    } finally {
      await producer.disconnect();
      await raw.disconnect();
    }

    const dataDir = join(tempDir('e2e'), 'data');
    const db = database('e2e');
    const ingestEnv = {
      KAFKA_BROKERS: BROKERS.join(','),
      KAFKA_GROUP_ID: `crm-${RUN}-e2e`,
      KAFKA_TOPICS: topic,
      CRM_DATA_DIR: dataDir,
      INGEST_HTTP_PORT: '0',
      // Small fetches (a few messages per batch), so that the kill lands mid-stream.
      KAFKA_MAX_BYTES: '4096',
      KAFKA_MAX_BYTES_PER_PARTITION: '2048',
      KAFKA_SESSION_TIMEOUT_MS: '8000',
    };
    // The projector follows the store while ingest writes it (another process, polled).
    const projector = await startProjector(dataDir, db, 'p-e2e');
    const first = startApp(INGEST_MAIN, ingestEnv, children);
    await waitFor('the first events in the store', 60_000, async () => (await countPresent(dataDir, ids)) > 0, 20);
    expect((await stopChild(first, 'SIGKILL', 10_000)).signal).toBe('SIGKILL');
    const atKill = await countPresent(dataDir, ids);
    if (atKill >= ids.length) throw new Error('the consumer finished before it was killed: the test did not interrupt it');
    const second = startApp(INGEST_MAIN, ingestEnv, children);
    await waitFor(`every event in the store after the restart (had ${atKill} at the kill)`, 90_000, async () => (await countPresent(dataDir, ids)) === ids.length, 200);
    const dlq = await (async () => {
      const consumer = kafka.consumer({ groupId: `crm-${RUN}-dlq-reader` });
      const got: KafkaMessage[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [dlqTopic(topic)], fromBeginning: true });
        await consumer.run({ eachMessage: async ({ message }) => void got.push(message) });
        await waitFor(`3 messages on ${dlqTopic(topic)} (have ${got.length})`, 30_000, async () => got.length >= 3);
        return got;
      } finally {
        await consumer.disconnect();
      }
    })();
    const stopped = await stopChild(second, 'SIGTERM', 40_000);
    expect({ code: stopped.code, output: stopped.code === 0 ? '' : second.output() }).toEqual({ code: 0, output: '' });

    // Malformed messages: in the dead-letter topic with their reasons; the rest flowed.
    const reasons = dlq.map((m) => ({ value: m.value?.toString(), topic: m.headers?.[DLQ_HEADERS.sourceTopic]?.toString(), error: m.headers?.[DLQ_HEADERS.error]?.toString() ?? '' }));
    expect(reasons.map((r) => r.value).sort()).toEqual([...malformed].sort());
    for (const r of reasons) expect(r.topic).toBe(topic);
    expect(reasons.find((r) => r.value === malformed[0])?.error).toMatch(/JSON/);
    expect(reasons.find((r) => r.value === malformed[1])?.error).toMatch(/freightFen/);
    expect(reasons.find((r) => r.value === malformed[2])?.error).toMatch(/type/);

    // Nothing lost, nothing applied twice: the store holds the embedded run's events, once each, same order per stream.
    const reference = await embeddedRun([events]);
    const stored = await allEvents(dataDir);
    const referenceEvents: StoredEvent[] = [];
    for await (const e of reference.w.store.readAll()) referenceEvents.push(e);
    expect(stored.length).toBe(referenceEvents.length);
    expect(new Set(stored.map((e) => e.id)).size).toBe(stored.length);
    expect(byStream(stored)).toEqual(byStream(referenceEvents));

    // Projector → FerretDB → API: every Customer 360 equals the embedded run's.
    const w = openEmbeddedWriteSide(dataDir);
    closers.push(() => w.close());
    const reader = await ReadSideReader.open(w.store, await mongoStore(db), { refreshMs: 200 });
    closers.push(() => reader.close());
    const head = await w.store.headPosition();
    expect(await reader.waitFor(head, 60_000)).toBe(true);
    const status = await projector.status();
    expect(status.role).toBe('leader');
    const app = await createApp({ writeSide: w, readSide: reader, tokens: loadApiTokens(dataDir, { CRM_API_TOKENS: JSON.stringify({ [ADMIN]: { role: 'admin' } }) }) }, { logLevel: 'silent' });
    closers.push(() => app.close());
    await app.listen(0, '127.0.0.1');
    const base = await app.getUrl();
    const customers = [...new Set(events.map((e) => e.customerId as string))].sort();
    expect(customers.length).toBeGreaterThan(50);
    for (const id of customers) {
      const res = await fetch(`${base}/v1/customers/${id}?minPosition=${head}`, { headers: { authorization: `Bearer ${ADMIN}` } });
      expect(res.status).toBe(200);
      const got = canonical(withoutPositions(await res.json()));
      const want = canonical(withoutPositions(JSON.parse(JSON.stringify(await customer360(reference.rs, id)))));
      expect({ id, doc: got }).toEqual({ id, doc: want });
    }
    // Every view (portfolio, alerts, pyramid, funnel, complaints) too, positions aside.
    expect(withoutPositions(await dumpViews(reader))).toEqual(withoutPositions(await dumpViews(reference.rs)));
    await stopChild(projector, 'SIGTERM', 30_000);
  });

  it('two projector instances: only the lease holder applies; after the leader is killed the standby takes over; the views equal a single-instance run', async () => {
    if (serverError) throw serverError;
    checkBuiltFiles([INGEST_MAIN, PROJECTOR_MAIN]);
    const events = await history(2400, 120, 23);
    const chunks = [events.slice(0, 1200), events.slice(1200, 1800), events.slice(1800)];
    const dataDir = join(tempDir('lease'), 'data');
    const db = database('lease');
    const w = openEmbeddedWriteSide(dataDir);
    closers.push(() => w.close());
    const reader = await ReadSideReader.open(w.store, await mongoStore(db), { refreshMs: 200 });
    closers.push(() => reader.close());
    await w.pipeline.ingest(items(chunks[0]), { source: 'lease-test' });

    const a = await startProjector(dataDir, db, 'p-a');
    await waitFor('projector a to lead', 30_000, async () => (await a.status()).role === 'leader');
    const b = await startProjector(dataDir, db, 'p-b');
    step('both projectors answer');
    expect(await reader.waitFor(await w.store.headPosition(), 60_000)).toBe(true);
    step('projected the first chunk');

    // Both run; more events arrive: only a applies them, b stands by without a single write.
    await w.pipeline.ingest(items(chunks[1], 1200), { source: 'lease-test' });
    step('second chunk ingested');
    expect(await reader.waitFor(await w.store.headPosition(), 60_000)).toBe(true);
    const [sa, sb] = [await a.status(), await b.status()];
    expect(sa).toMatchObject({ role: 'leader', terms: 1 });
    expect(sa.commits).toBeGreaterThan(0);
    expect(sb).toMatchObject({ role: 'standby', commits: 0, terms: 0 });

    // The leader dies without freeing the lease: b takes over when it expires and applies what follows.
    expect((await stopChild(a, 'SIGKILL', 10_000)).signal).toBe('SIGKILL');
    await w.pipeline.ingest(items(chunks[2], 1800), { source: 'lease-test' });
    const head = await w.store.headPosition();
    await waitFor('projector b to lead', 30_000, async () => (await b.status()).role === 'leader').catch((err: Error) => {
      throw new Error(`${err.message}\n${b.output().slice(-3000)}`);
    });
    expect(await reader.waitFor(head, 60_000)).toBe(true);
    const after = await b.status();
    expect(after).toMatchObject({ role: 'leader', terms: 1, position: String(head) });
    expect(after.commits).toBeGreaterThan(0);

    // The same documents as one projector over the same store in one go (counters included: an event applied
    // twice would count twice). Position stamps say in which batch a document was last written, which differs.
    const single = await ReadSide.open(w.store, new MemoryReadModelStore(), { live: false });
    closers.push(() => single.close());
    await reader.refresh();
    const views = withoutPositions(await dumpViews(reader)) as Record<string, unknown[]>;
    expect(Object.keys(views).sort()).toEqual(['alerts', 'complaints', 'customers', 'funnel', 'pyramid']);
    expect(views.customers).toHaveLength(new Set(events.map((e) => e.customerId)).size);
    expect(views).toEqual(withoutPositions(await dumpViews(single)));
    const stopped = await stopChild(b, 'SIGTERM', 30_000);
    expect(stopped.code).toBe(0);
  });
});
