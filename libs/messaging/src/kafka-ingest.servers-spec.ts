/**
 * Kafka ingest against a real broker (scripts/servers/start.sh: Apache Kafka, KRaft, 127.0.0.1:19092;
 * KAFKA_BROKERS overrides). Needs the build for the child processes: `npm run build` first
 * (dist/apps/ingest/src/main.js, dist/apps/cli/src/main.js).
 *
 *   scripts/servers/start.sh kafka && npm run build && npx jest -c jest.servers.config.js libs/messaging
 *
 * Every test uses its own topics (unique prefix per run) and group id, and its own temp data directory;
 * every wait is bounded. If the broker is not reachable, every test fails saying so.
 */
import { spawn, type ChildProcess } from 'child_process';
import { randomUUID } from 'crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { logLevel, type Admin, type Kafka, type KafkaMessage } from 'kafkajs';
import type { StoredEvent } from '@crm/event-store';
import { openEmbeddedWriteSide, type RawInput, type WriteSide } from '@crm/ingest';
import { allEvents, checkBuilt as checkBuiltFiles, countPresent, startChild, stopChild, waitFor, withTimeout, type Child } from '../../../test/support/servers';
import { createKafka, DLQ_HEADERS, dlqTopic, KafkaIngestConsumer, KafkaUpstreamProducer, parseBrokers, upstreamTopics, type IngestSink, type TopicNames } from '@crm/messaging';

const BROKERS = parseBrokers(process.env.KAFKA_BROKERS ?? '127.0.0.1:19092');
const RUN = randomUUID().slice(0, 8);
const ROOT = resolve(__dirname, '../../..');
const INGEST_MAIN = join(ROOT, 'dist/apps/ingest/src/main.js');
const CLI_MAIN = join(ROOT, 'dist/apps/cli/src/main.js');

let kafka: Kafka;
let admin: Admin;
let brokerError: Error | undefined;
const createdTopics: string[] = [];
const tempDirs: string[] = [];
const children = new Set<ChildProcess>();

// ---------------------------------------------------------------------------------------------- helpers

function requireBroker(): void {
  if (brokerError) throw brokerError;
}

function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `crm-kafka-${name}-`));
  tempDirs.push(dir);
  return dir;
}

async function createTopics(prefix: string, partitions: number): Promise<TopicNames> {
  const topics = upstreamTopics(prefix);
  const names = Object.values(topics).flatMap((t) => [t, dlqTopic(t)]);
  await admin.createTopics({ waitForLeaders: true, topics: names.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })) });
  createdTopics.push(...names);
  return topics;
}

/** Upstream events (DESIGN §3) for `customers` customers; `shipmentsOnly` keeps everything on waybill.shipments. */
function makeEvents(tag: string, customers: number, perCustomer: number, shipmentsOnly: boolean): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  const base = Date.parse('2026-01-05T09:00:00+08:00');
  for (let c = 0; c < customers; c++) {
    const customerId = `${tag}-C${String(c).padStart(4, '0')}`;
    const at = (i: number) => new Date(base + i * 36 * 3600_000 + c * 60_000).toISOString().replace('Z', '+00:00');
    let i = 0;
    const push = (type: string, data: Record<string, unknown>) => events.push({ eventId: randomUUID(), type, occurredAt: at(i++), customerId, source: 'servers-spec', data });
    if (!shipmentsOnly) {
      push('CustomerRegistered', { name: `客户 ${c}`, channel: 'ONLINE', city: 'Shenzhen' });
      push('AccountManagerAssigned', { managerId: 'M01' });
    }
    for (let k = 0; k < perCustomer; k++) {
      const waybillNo = `${customerId}-W${k}`;
      if (k % 2 === 0) push('ShipmentPickedUp', { waybillNo, product: 'NEXT_DAY', freightFen: 1500 + k * 10, originCity: 'Shenzhen', destinationCity: 'Beijing' });
      else push('ShipmentDelivered', { waybillNo: `${customerId}-W${k - 1}`, onTime: k % 3 !== 0 });
    }
    if (!shipmentsOnly) {
      push('PaymentSettled', { invoiceId: `${customerId}-I1`, amountFen: 30000, period: '2026-01' });
      push('ComplaintFiled', { complaintId: `${customerId}-K1`, category: 'QUALITY_COMPLAINT', source: 'HOTLINE_AGENT' });
      push('ComplaintResolved', { complaintId: `${customerId}-K1`, satisfaction: 4 });
    }
  }
  return events;
}

function writeNdjson(dir: string, events: Record<string, unknown>[]): string {
  const file = join(dir, 'events.ndjson');
  writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  return file;
}

async function produce(topics: TopicNames, events: Record<string, unknown>[]): Promise<void> {
  const producer = new KafkaUpstreamProducer({ kafka, topics, batchSize: 25 });
  await producer.connect();
  try {
    const summary = await producer.publish(events.map((value, i) => ({ line: i + 1, value })));
    expect(summary).toMatchObject({ published: events.length, skipped: 0 });
  } finally {
    await producer.disconnect();
  }
}

function startIngest(env: Record<string, string>): Child {
  return startChild(INGEST_MAIN, { INGEST_HTTP_PORT: '0', ...env }, children);
}

async function committedCount(groupId: string, topic: string): Promise<number> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return t.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
}

async function endOffsets(topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0);
}

/** Reads `count` messages of a topic from the beginning with a throw-away group (bounded). */
async function readTopic(topic: string, count: number, timeoutMs: number): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: `crm-${RUN}-reader-${randomUUID().slice(0, 6)}` });
  const got: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void got.push(message) });
    await waitFor(`${count} messages on ${topic} (have ${got.length})`, timeoutMs, async () => got.length >= count);
    return got;
  } finally {
    await consumer.disconnect();
  }
}

/** Per stream, the ids and types in revision order. */
function byStream(events: StoredEvent[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of [...events].sort((a, b) => (a.streamId === b.streamId ? a.revision - b.revision : a.streamId < b.streamId ? -1 : 1))) {
    (out[e.streamId] ??= []).push(`${e.revision}:${e.type}:${e.id}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- setup

beforeAll(async () => {
  kafka = createKafka({ brokers: BROKERS, clientId: `crm-servers-spec-${RUN}`, retries: 2, level: logLevel.NOTHING });
  admin = kafka.admin();
  try {
    await withTimeout(
      admin.connect().then(() => admin.listTopics()),
      20_000,
      'connect',
    );
  } catch (err) {
    brokerError = new Error(
      `Kafka broker not reachable at ${BROKERS.join(',')} (${(err as Error).message}). ` + 'Start it with `scripts/servers/start.sh kafka` (or point KAFKA_BROKERS at a broker).',
    );
  }
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  if (!brokerError) {
    if (createdTopics.length) await admin.deleteTopics({ topics: createdTopics, timeout: 10_000 }).catch(() => undefined);
    await admin.disconnect();
  }
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------- tests

describe('Kafka ingest against a real broker', () => {
  it('(a) events produced with `crm produce` end up in the embedded store, once each, and the lag drops to 0', async () => {
    requireBroker();
    checkBuiltFiles([INGEST_MAIN, CLI_MAIN]);
    const prefix = `crm-${RUN}-a.`;
    const topics = await createTopics(prefix, 3);
    const events = makeEvents(`a${RUN}`, 12, 6, false);
    const dir = tempDir('a');
    const file = writeNdjson(dir, [...events.slice(0, 5), { not: 'routable' }, ...events.slice(5)]);

    // crm produce, the built CLI
    const cli = spawn(process.execPath, [CLI_MAIN, 'produce', file, '--brokers', BROKERS.join(','), '--topic-prefix', prefix, '--batch-size', '17', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    cli.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await withTimeout(new Promise<number | null>((r) => cli.once('exit', r)), 60_000, 'crm produce');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const summary = JSON.parse(stdout) as { published: number; skipped: number; topics: Record<string, number>; skippedLines: { line: number; reason: string }[] };
    expect(summary.published).toBe(events.length);
    expect(summary.skipped).toBe(1);
    expect(summary.skippedLines[0]).toMatchObject({ line: 6 });
    expect(summary.skippedLines[0].reason).toMatch(/type/);
    expect(summary.topics).toEqual({ [topics.customers]: 24, [topics.shipments]: 72, [topics.payments]: 12, [topics.complaints]: 24 });
    for (const t of Object.values(topics)) expect(await endOffsets(t)).toBe(summary.topics[t]);

    const writeSide: WriteSide = openEmbeddedWriteSide(join(dir, 'data'));
    const consumer = new KafkaIngestConsumer({ kafka, groupId: `crm-${RUN}-a`, topics: Object.values(topics), pipeline: writeSide.pipeline, partitionsConsumedConcurrently: 3 });
    try {
      await consumer.start();
      const ids = events.map((e) => e.eventId as string);
      await waitFor('every produced event in the store', 60_000, async () => (await writeSide.store.existingEventIds(ids)).size === ids.length);
      await waitFor('consumer lag 0', 30_000, async () => (await consumer.lag()).total === 0);
      const lag = await consumer.lag();
      expect(lag.partitions).toHaveLength(12);
      expect(consumer.counters).toMatchObject({ accepted: events.length, rejected: 0, deadLettered: 0 });
    } finally {
      await consumer.stop();
    }
    const stored: StoredEvent[] = [];
    for await (const e of writeSide.store.readAll()) stored.push(e);
    const streams: string[] = [];
    for await (const s of writeSide.store.listStreams('customer-')) streams.push(s);
    expect(writeSide.quarantine.count()).toBe(0);
    await writeSide.close();

    // Each fact once, under its upstream eventId, on its customer's stream; no event id twice.
    const facts = stored.filter((e) => e.metadata.upstreamEventId === e.id);
    expect(facts.map((e) => e.id).sort()).toEqual(events.map((e) => e.eventId as string).sort());
    for (const f of facts) expect(f.streamId).toBe(`customer-${String(events.find((e) => e.eventId === f.id)?.customerId)}`);
    expect(new Set(stored.map((e) => e.id)).size).toBe(stored.length);
    expect(streams).toHaveLength(12);
  });

  it('(b) malformed messages go to <topic>.dlq with the four headers and a reason naming the field; valid ones of the same batch are appended', async () => {
    requireBroker();
    const prefix = `crm-${RUN}-b.`;
    const topics = await createTopics(prefix, 1);
    const [valid1, valid2] = makeEvents(`b${RUN}`, 1, 2, true); // a pickup and its delivery
    const negativeFreight: Record<string, unknown> = { ...makeEvents(`b${RUN}`, 1, 1, true)[0], eventId: randomUUID() };
    (negativeFreight.data as Record<string, unknown>).freightFen = -5;
    const unknownType = { eventId: randomUUID(), type: 'ParcelTeleported', occurredAt: '2026-01-05T10:00:00+08:00', customerId: `b${RUN}-C0000`, data: {} };
    const values = [JSON.stringify(valid1), '{"eventId": "not json', JSON.stringify(negativeFreight), JSON.stringify(unknownType), JSON.stringify(valid2)];
    const producer = kafka.producer();
    await producer.connect();
    // One send, one partition: the five messages form one batch for the consumer.
    const [sent] = await producer.send({ topic: topics.shipments, acks: -1, messages: values.map((value) => ({ key: `b${RUN}-C0000`, value, headers: { 'x-upstream': 'waybill-east' } })) });
    await producer.disconnect();
    const base = Number(sent.baseOffset);

    const dir = tempDir('b');
    const writeSide = openEmbeddedWriteSide(dir);
    const consumer = new KafkaIngestConsumer({ kafka, groupId: `crm-${RUN}-b`, topics: Object.values(topics), pipeline: writeSide.pipeline });
    let dlq: KafkaMessage[];
    try {
      await consumer.start();
      await waitFor('the two valid events in the store', 60_000, async () => (await writeSide.store.existingEventIds([valid1.eventId as string, valid2.eventId as string])).size === 2);
      dlq = await readTopic(dlqTopic(topics.shipments), 3, 30_000);
      await waitFor('consumer lag 0 (rejected messages are committed too)', 30_000, async () => (await consumer.lag()).total === 0);
      expect(consumer.counters).toMatchObject({ accepted: 2, rejected: 3, deadLettered: 3, failedBatches: 0 });
    } finally {
      await consumer.stop();
    }
    expect(writeSide.quarantine.count()).toBe(3);
    await writeSide.close();

    const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();
    const byOffset = new Map(dlq.map((m) => [header(m, DLQ_HEADERS.sourceOffset), m]));
    expect([...byOffset.keys()].sort()).toEqual([base + 1, base + 2, base + 3].map(String).sort());
    for (const [i, reason] of [
      [1, /JSON/],
      [2, /data\.freightFen/],
      [3, /\btype\b/],
    ] as const) {
      const m = byOffset.get(String(base + i));
      expect(m).toBeDefined();
      expect(m!.value?.toString()).toBe(values[i]);
      expect(m!.key?.toString()).toBe(`b${RUN}-C0000`);
      expect(header(m!, DLQ_HEADERS.sourceTopic)).toBe(topics.shipments);
      expect(header(m!, DLQ_HEADERS.sourcePartition)).toBe('0');
      expect(header(m!, DLQ_HEADERS.error)).toMatch(reason);
      expect(header(m!, 'x-upstream')).toBe('waybill-east');
    }
  });

  it('(e) a store failure resolves nothing: kafkajs redelivers the same batch, and every event is appended once', async () => {
    requireBroker();
    const prefix = `crm-${RUN}-e.`;
    const topics = await createTopics(prefix, 1);
    const events = makeEvents(`e${RUN}`, 5, 8, true);
    const ids = events.map((e) => e.eventId as string);
    await produce(topics, events);

    const writeSide = openEmbeddedWriteSide(tempDir('e'));
    const calls: { firstLine: number; failed: boolean; committedBefore: number }[] = [];
    const groupId = `crm-${RUN}-e`;
    let failuresLeft = 2;
    const flaky: IngestSink = {
      ingest: async (input, options) => {
        const items = [...(input as Iterable<RawInput>)];
        const committedBefore = await committedCount(groupId, topics.shipments);
        if (failuresLeft > 0) {
          failuresLeft--;
          calls.push({ firstLine: items[0].line, failed: true, committedBefore });
          throw new Error('event store unavailable (simulated)');
        }
        calls.push({ firstLine: items[0].line, failed: false, committedBefore });
        return writeSide.pipeline.ingest(items, options);
      },
    };
    const consumer = new KafkaIngestConsumer({ kafka, groupId, topics: Object.values(topics), pipeline: flaky });
    try {
      await consumer.start();
      await waitFor('every event in the store', 60_000, async () => (await writeSide.store.existingEventIds(ids)).size === ids.length);
      await waitFor('consumer lag 0', 30_000, async () => (await consumer.lag()).total === 0);
    } finally {
      await consumer.stop();
    }
    // The two failed attempts and the successful one all started at the first offset, with nothing committed before.
    expect(calls.slice(0, 3)).toEqual([
      { firstLine: 0, failed: true, committedBefore: 0 },
      { firstLine: 0, failed: true, committedBefore: 0 },
      { firstLine: 0, failed: false, committedBefore: 0 },
    ]);
    expect(consumer.counters.failedBatches).toBe(2);
    const stored: StoredEvent[] = [];
    for await (const e of writeSide.store.readAll()) stored.push(e);
    await writeSide.close();
    expect(stored.filter((e) => e.metadata.upstreamEventId === e.id).map((e) => e.id).sort()).toEqual([...ids].sort());
    expect(new Set(stored.map((e) => e.id)).size).toBe(stored.length);
  });

  it('(c) kill -9 mid-stream and restart: the store ends with exactly the events of a clean run', async () => {
    requireBroker();
    checkBuiltFiles([INGEST_MAIN, CLI_MAIN]);
    const prefix = `crm-${RUN}-c.`;
    const topics = await createTopics(prefix, 3);
    // One topic (keyed by customer), so each customer's order is fixed and a clean run is comparable stream by stream.
    const events = makeEvents(`c${RUN}`, 40, 60, true);
    const ids = events.map((e) => e.eventId as string);
    await produce(topics, events);
    expect(await endOffsets(topics.shipments)).toBe(events.length);

    const dataDir = join(tempDir('c'), 'data');
    const groupId = `crm-${RUN}-c`;
    const env = { KAFKA_BROKERS: BROKERS.join(','), KAFKA_GROUP_ID: groupId, KAFKA_TOPICS: Object.values(topics).join(','), CRM_DATA_DIR: dataDir, KAFKA_MAX_BYTES_PER_PARTITION: '4096', KAFKA_SESSION_TIMEOUT_MS: '8000' };

    const first = startIngest(env);
    const before = await waitFor('the first events in the store', 60_000, async () => {
      const n = await countPresent(dataDir, ids);
      return n > 0 ? n : undefined;
    }, 20);
    const killed = await stopChild(first, 'SIGKILL', 10_000);
    expect(killed.signal).toBe('SIGKILL');
    const atKill = await countPresent(dataDir, ids);
    expect(atKill).toBeGreaterThanOrEqual(before);
    if (atKill >= ids.length) throw new Error('the consumer finished before it was killed: the test did not interrupt it (make the batches smaller)');
    const committedAtKill = await committedCount(groupId, topics.shipments);
    if (process.env.CRM_SPEC_VERBOSE) process.stderr.write(`(c) killed with ${atKill}/${ids.length} events appended, ${committedAtKill} offsets committed\n`);
    expect(committedAtKill).toBeLessThanOrEqual(atKill); // committed only what was appended

    const second = startIngest(env);
    await waitFor('every event in the store after the restart', 90_000, async () => (await countPresent(dataDir, ids)) === ids.length, 200);
    await waitFor('the group committed every offset', 30_000, async () => (await committedCount(groupId, topics.shipments)) === events.length);
    const stopped = await stopChild(second, 'SIGTERM', 40_000);
    expect({ code: stopped.code, output: stopped.code === 0 ? '' : second.output() }).toEqual({ code: 0, output: '' });

    // A clean run: the same events, in the same order per customer, through the same pipeline in one go.
    const cleanDir = join(tempDir('c-clean'), 'data');
    const clean = openEmbeddedWriteSide(cleanDir);
    const items: RawInput[] = events.map((value, i) => ({ line: i + 1, value }));
    const r = await clean.pipeline.ingest(items, { source: 'clean-run' });
    expect(r).toMatchObject({ accepted: events.length, duplicates: 0, rejected: 0 });
    await clean.close();

    const restarted = await allEvents(dataDir);
    const reference = await allEvents(cleanDir);
    expect(restarted.length).toBe(reference.length);
    expect(new Set(restarted.map((e) => e.id)).size).toBe(restarted.length); // nothing applied twice
    expect(byStream(restarted)).toEqual(byStream(reference)); // nothing lost, same derived events, same order per stream
  });

  it('(d) SIGTERM: the process finishes its batch, commits exactly what it appended, and exits 0', async () => {
    requireBroker();
    checkBuiltFiles([INGEST_MAIN, CLI_MAIN]);
    const prefix = `crm-${RUN}-d.`;
    const topics = await createTopics(prefix, 3);
    const events = makeEvents(`d${RUN}`, 40, 60, true);
    const ids = events.map((e) => e.eventId as string);
    await produce(topics, events);

    const dataDir = join(tempDir('d'), 'data');
    const groupId = `crm-${RUN}-d`;
    const env = { KAFKA_BROKERS: BROKERS.join(','), KAFKA_GROUP_ID: groupId, KAFKA_TOPICS: Object.values(topics).join(','), CRM_DATA_DIR: dataDir, KAFKA_MAX_BYTES_PER_PARTITION: '4096' };
    const child = startIngest(env);
    await waitFor('the first events in the store', 60_000, async () => (await countPresent(dataDir, ids)) > 0, 20);
    const exit = await stopChild(child, 'SIGTERM', 40_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(child.output()).toMatch(/kafka ingest consumer stopped/);

    const appended = await countPresent(dataDir, ids);
    const committed = await committedCount(groupId, topics.shipments);
    if (process.env.CRM_SPEC_VERBOSE) process.stderr.write(`(d) SIGTERM with ${appended}/${ids.length} events appended, ${committed} offsets committed\n`);
    expect(appended).toBeGreaterThan(0);
    // Every message is a valid, distinct event: one committed offset per appended fact, no more, no less.
    expect(committed).toBe(appended);

    // And the next run continues from there to the end, adding each remaining event once.
    const next = startIngest(env);
    await waitFor('every event in the store after the restart', 90_000, async () => (await countPresent(dataDir, ids)) === ids.length, 200);
    await waitFor('the group committed every offset', 30_000, async () => (await committedCount(groupId, topics.shipments)) === events.length);
    expect((await stopChild(next, 'SIGTERM', 40_000)).code).toBe(0);
    const stored = await allEvents(dataDir);
    expect(stored.filter((e) => e.metadata.upstreamEventId === e.id)).toHaveLength(events.length);
    expect(new Set(stored.map((e) => e.id)).size).toBe(stored.length);
  });
});
