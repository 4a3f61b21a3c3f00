#!/usr/bin/env node
/**
 * The Kafka ingest deployable: upstream topics → the one ingest pipeline → the event store.
 * Wiring only; the configuration is in config.ts (environment, validated at start), the consumer in
 * @crm/messaging. Stops gracefully on SIGTERM/SIGINT: the batch in progress finishes and commits, then
 * the consumer leaves the group and the store is closed.
 */
import { join } from 'path';
import pino from 'pino';
import { EventStoreDbEventStore } from '@crm/event-store';
import { createWriteSide, openEmbeddedWriteSide, SqliteQuarantine, type WriteSide } from '@crm/ingest';
import { createKafka, KafkaIngestConsumer } from '@crm/messaging';
import { gracefulShutdown, runDeployable } from '@crm/config';
import { loadIngestConfig } from './config';
import { startHealthServer } from './health';

const SHUTDOWN_TIMEOUT_MS = 30_000;

async function main(): Promise<void> {
  const config = loadIngestConfig(process.env);
  const log = pino({ level: config.logLevel, base: { app: 'crm-ingest' } });

  const writeSide: WriteSide = config.eventStoreUrl
    ? createWriteSide(EventStoreDbEventStore.connect(config.eventStoreUrl), new SqliteQuarantine(join(config.dataDir, 'quarantine.sqlite')))
    : openEmbeddedWriteSide(config.dataDir);
  const kafka = createKafka({ brokers: config.brokers, clientId: 'crm-ingest', logger: log.child({ component: 'kafkajs' }) });
  const consumer = new KafkaIngestConsumer({
    kafka,
    groupId: config.groupId,
    topics: config.topics,
    pipeline: writeSide.pipeline,
    fromBeginning: config.fromBeginning,
    partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
    maxBytes: config.maxBytes,
    maxBytesPerPartition: config.maxBytesPerPartition,
    sessionTimeoutMs: config.sessionTimeoutMs,
    logger: log,
  });

  const health = config.httpPort > 0 ? await startHealthServer(consumer, config.httpPort) : undefined;
  const shutdown = gracefulShutdown(log, SHUTDOWN_TIMEOUT_MS, async () => {
    health?.close();
    await consumer.stop();
    await writeSide.close();
  });
  consumer.onFatal((err) => void shutdown(`consumer crashed: ${err.message}`, 1));

  log.info(
    { brokers: config.brokers, groupId: config.groupId, topics: config.topics, store: config.eventStoreUrl ? 'eventstoredb' : `sqlite:${config.dataDir}`, httpPort: config.httpPort || null },
    'starting kafka ingest',
  );
  await consumer.start();
}

runDeployable('crm-ingest', main);
