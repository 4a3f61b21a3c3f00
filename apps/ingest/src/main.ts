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
import { runDeployable } from '@crm/config';
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

  let shuttingDown = false;
  const health = config.httpPort > 0 ? await startHealthServer(consumer, config.httpPort) : undefined;
  const shutdown = async (reason: string, code: number): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ reason }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'graceful shutdown timed out');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    try {
      health?.close();
      await consumer.stop();
      await writeSide.close();
      log.info('stopped');
    } catch (err) {
      log.error({ err }, 'error during shutdown');
      code = code || 1;
    }
    process.exit(code);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.once('SIGINT', () => void shutdown('SIGINT', 0));
  consumer.onFatal((err) => void shutdown(`consumer crashed: ${err.message}`, 1));

  log.info(
    { brokers: config.brokers, groupId: config.groupId, topics: config.topics, store: config.eventStoreUrl ? 'eventstoredb' : `sqlite:${config.dataDir}`, httpPort: config.httpPort || null },
    'starting kafka ingest',
  );
  await consumer.start();
}

runDeployable('crm-ingest', main);
