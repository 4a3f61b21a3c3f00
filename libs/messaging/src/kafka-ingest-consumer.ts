import type { Admin, Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import type { IngestOptions, IngestResult, RawInput } from '@crm/ingest';
import { silentLogger, type MessagingLogger } from './kafka';
import { dlqTopic, upstreamTopics } from './topics';

/** What the consumer needs of the write side: the one ingest pipeline (IngestPipeline). */
export interface IngestSink {
  ingest(input: Iterable<RawInput> | AsyncIterable<RawInput>, options: IngestOptions): Promise<IngestResult>;
}

export interface KafkaIngestConsumerOptions {
  kafka: Kafka;
  groupId: string;
  pipeline: IngestSink;
  /** Topics to consume; default the four of DESIGN §3. Rejected messages go to `<topic>.dlq`. */
  topics?: readonly string[];
  /** A new group starts at the earliest offset (default true: the store is rebuilt from the whole log, idempotently). */
  fromBeginning?: boolean;
  /** Partitions fetched and handled at once (default 1). Ingest itself is serialized: see the class comment. */
  partitionsConsumedConcurrently?: number;
  /** Upper bound of one fetch response, all partitions (default 10 MiB). */
  maxBytes?: number;
  /** Upper bound of one partition's batch (default 1 MiB). */
  maxBytesPerPartition?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  logger?: MessagingLogger;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Next offset to be written (high watermark). */
  high: number;
  /** Next offset the group will read: its committed offset, or the log start if it committed none. */
  committed: number;
  lag: number;
}

export interface ConsumerLag {
  groupId: string;
  total: number;
  partitions: PartitionLag[];
}

export interface IngestCounters {
  batches: number;
  messages: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  deadLettered: number;
  /** Batches that failed (store or DLQ error) and were left unresolved for kafkajs to retry. */
  failedBatches: number;
}

export type ConsumerState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'crashed';

/** Lines per append batch inside one fetched Kafka batch (larger than `crm import`'s 2,000: measured with the Kafka bench). */
const INGEST_BATCH = 5_000;

/** Header names of a dead-lettered message. */
export const DLQ_HEADERS = {
  sourceTopic: 'x-source-topic',
  sourcePartition: 'x-source-partition',
  sourceOffset: 'x-source-offset',
  error: 'x-error',
} as const;

/**
 * Upstream events from Kafka into the event store, at least once and idempotently.
 *
 * One consumer group over the upstream topics, `eachBatch` with `eachBatchAutoResolve: false`. Per batch
 * (one topic-partition, at most `maxBytesPerPartition`):
 * 1. stop if `!isRunning() || isStale()`;
 * 2. every message value (UTF-8 text) goes through the one ingest pipeline (`IngestPipeline.ingest`) as an
 *    input item whose `line` is the message offset: it validates, quarantines rejected input, drops eventIds
 *    already recorded, decides and appends durably (redelivered messages are reported as duplicates);
 * 3. each rejected message is produced to `<topic>.dlq` (acks=all) with its key, value and headers plus
 *    `x-source-topic`, `x-source-partition`, `x-source-offset` and `x-error` (the reasons, each naming the
 *    field, joined with "; ");
 * 4. only then, unless the partition went stale meanwhile, every offset of the batch is resolved, the consumer
 *    heartbeats and `commitOffsetsIfNecessary()` commits (autoCommitThreshold 1: that call commits).
 * A failure in 2 or 3 (store down, DLQ unreachable) resolves nothing and is rethrown: kafkajs retries the
 * batch from the last resolved offset, then restarts the consumer. Shutdown (`stop()`, e.g. on SIGTERM) lets
 * the batch in progress finish, commit, and then leaves the group and disconnects.
 *
 * Ingest is serialized: with `partitionsConsumedConcurrently` > 1, fetching, dead-lettering and committing
 * overlap, but batches enter the pipeline one at a time, because one customer's events arrive on several
 * topics and the write side keeps one state cache per customer.
 *
 * Memory is bounded by `maxBytes` / `maxBytesPerPartition` (kafkajs holds at most one fetch response).
 */
export class KafkaIngestConsumer {
  readonly groupId: string;
  readonly topics: readonly string[];
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly pipeline: IngestSink;
  private readonly logger: MessagingLogger;
  private readonly options: KafkaIngestConsumerOptions;
  private ingestQueue: Promise<unknown> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private crashListeners: ((error: Error) => void)[] = [];
  state: ConsumerState = 'idle';
  readonly counters: IngestCounters = { batches: 0, messages: 0, accepted: 0, duplicates: 0, rejected: 0, deadLettered: 0, failedBatches: 0 };
  /** When the last batch was committed (ISO), for /health. */
  lastCommitAt: string | null = null;

  constructor(options: KafkaIngestConsumerOptions) {
    this.options = options;
    this.groupId = options.groupId;
    const defaults = upstreamTopics();
    this.topics = options.topics && options.topics.length > 0 ? [...options.topics] : [defaults.customers, defaults.shipments, defaults.payments, defaults.complaints];
    this.pipeline = options.pipeline;
    this.logger = options.logger ?? silentLogger;
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      maxBytes: options.maxBytes ?? 10 * 1024 * 1024,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
      ...(options.sessionTimeoutMs !== undefined ? { sessionTimeout: options.sessionTimeoutMs } : {}),
      ...(options.heartbeatIntervalMs !== undefined ? { heartbeatInterval: options.heartbeatIntervalMs } : {}),
    });
    this.producer = options.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, maxInFlightRequests: 1 });
    this.admin = options.kafka.admin();
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.logger.error({ err: e.payload.error, restart: e.payload.restart }, 'kafka consumer crashed');
      if (!e.payload.restart) {
        this.state = 'crashed';
        for (const l of this.crashListeners) l(e.payload.error);
      }
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      if (this.state === 'starting' || this.state === 'running') this.state = 'running';
      this.logger.info({ groupId: e.payload.groupId, memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'joined consumer group');
    });
  }

  /** Called when the consumer crashed for good (kafkajs will not restart it): the process should exit. */
  onFatal(listener: (error: Error) => void): void {
    this.crashListeners.push(listener);
  }

  /** Connects, subscribes and starts consuming; resolves once consuming has started (not when it ends). */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`consumer already ${this.state}`);
    this.state = 'starting';
    await this.producer.connect();
    await this.admin.connect();
    // Subscribing to a topic that does not exist fails with a cryptic protocol error: say which ones are missing.
    const existing = new Set(await this.admin.listTopics());
    const missing = this.topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      this.state = 'crashed';
      await this.producer.disconnect().catch(() => undefined);
      await this.admin.disconnect().catch(() => undefined);
      throw new Error(`topic(s) not found on the cluster: ${missing.join(', ')} (create them, or fix KAFKA_TOPICS)`);
    }
    const missingDlq = this.topics.map(dlqTopic).filter((t) => !existing.has(t));
    if (missingDlq.length > 0) this.logger.warn({ topics: missingDlq }, 'dead-letter topics do not exist yet; the first rejection relies on broker auto-creation');
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.topics], fromBeginning: this.options.fromBeginning ?? true });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: true,
      // commitOffsetsIfNecessary() commits as soon as one offset is resolved, i.e. at the end of each batch.
      autoCommitThreshold: 1,
      partitionsConsumedConcurrently: Math.max(1, this.options.partitionsConsumedConcurrently ?? 1),
      eachBatch: (payload) => this.handleBatch(payload),
    });
    if (this.state === 'starting') this.state = 'running';
    this.logger.info({ groupId: this.groupId, topics: this.topics }, 'kafka ingest consumer started');
  }

  /** Graceful stop: the batch in progress finishes and commits, then the group is left and everything disconnects. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.state = 'stopping';
      this.logger.info({ groupId: this.groupId }, 'stopping kafka ingest consumer (finishing the batch in progress)');
      try {
        await this.consumer.disconnect(); // stop(): waits for the running eachBatch, then leaves the group
      } finally {
        await this.producer.disconnect().catch(() => undefined);
        await this.admin.disconnect().catch(() => undefined);
        this.state = 'stopped';
        this.logger.info({ groupId: this.groupId, counters: this.counters }, 'kafka ingest consumer stopped');
      }
    })();
    return this.stopping;
  }

  /** Consumer lag per partition: high watermark minus the group's committed offset (log start if none). */
  async lag(): Promise<ConsumerLag> {
    const committed = await this.admin.fetchOffsets({ groupId: this.groupId, topics: [...this.topics] });
    const partitions: PartitionLag[] = [];
    for (const t of committed) {
      const ends = await this.admin.fetchTopicOffsets(t.topic);
      for (const p of ends) {
        const c = Number(t.partitions.find((x) => x.partition === p.partition)?.offset ?? '-1');
        const high = Number(p.high);
        const from = c >= 0 ? c : Number(p.low);
        partitions.push({ topic: t.topic, partition: p.partition, high, committed: from, lag: Math.max(0, high - from) });
      }
    }
    partitions.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    return { groupId: this.groupId, total: partitions.reduce((s, p) => s + p.lag, 0), partitions };
  }

  private async handleBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    if (!p.isRunning() || p.isStale() || batch.messages.length === 0) return;
    const { topic, partition } = batch;
    const byLine = new Map<number, KafkaMessage>();
    const items: RawInput[] = batch.messages.map((m) => {
      const line = Number(m.offset);
      byLine.set(line, m);
      return { line, raw: m.value === null ? '' : m.value.toString('utf8') };
    });

    let result: IngestResult;
    try {
      result = await this.serialized(() =>
        this.pipeline.ingest(items, {
          source: `kafka:${topic}/${partition}`,
          // The pipeline's own batches (5,000 lines): it decides the next while the last is appended, so a large
          // fetch is not one long decide followed by one long append. Offsets are committed after the whole call.
          batchSize: Math.min(items.length, INGEST_BATCH),
          // Keep the membership alive during a long append (kafkajs throttles heartbeats itself).
          onProgress: () => void p.heartbeat().catch(() => undefined),
        }),
      );
      if (result.rejections.length > 0) await this.deadLetter(topic, partition, result, byLine);
    } catch (err) {
      // Transient (store or DLQ unavailable): resolve nothing, kafkajs re-delivers from the last commit.
      this.counters.failedBatches++;
      this.logger.error({ err, topic, partition, firstOffset: batch.firstOffset(), lastOffset: batch.lastOffset() }, 'batch failed; not committing, kafkajs will retry');
      throw err;
    }

    this.counters.batches++;
    this.counters.messages += items.length;
    this.counters.accepted += result.accepted;
    this.counters.duplicates += result.duplicates;
    this.counters.rejected += result.rejected;
    if (p.isStale()) {
      // The partition was revoked or seeked meanwhile: its new owner re-reads from the last commit (idempotent).
      this.logger.warn({ topic, partition }, 'partition went stale during the batch; not committing it');
      return;
    }
    // The append returned: the batch is durable. Commit it, even when stopping (that is the graceful part).
    for (const m of batch.messages) p.resolveOffset(m.offset);
    await p.heartbeat();
    await p.commitOffsetsIfNecessary();
    this.lastCommitAt = new Date().toISOString();
    this.logger.debug(
      { topic, partition, lastOffset: batch.lastOffset(), messages: items.length, accepted: result.accepted, duplicates: result.duplicates, rejected: result.rejected },
      'batch committed',
    );
  }

  private async deadLetter(topic: string, partition: number, result: IngestResult, byLine: Map<number, KafkaMessage>): Promise<void> {
    const messages: Message[] = [];
    for (const r of result.rejections) {
      const m = byLine.get(r.line);
      if (!m) throw new Error(`ingest rejected line ${r.line}, which is no offset of the batch`);
      const headers: IHeaders = {
        ...m.headers,
        [DLQ_HEADERS.sourceTopic]: topic,
        [DLQ_HEADERS.sourcePartition]: String(partition),
        [DLQ_HEADERS.sourceOffset]: m.offset,
        [DLQ_HEADERS.error]: r.errors.join('; '),
      };
      messages.push({ key: m.key, value: m.value, headers });
      this.logger.warn({ topic, partition, offset: m.offset, eventId: r.eventId, errors: r.errors }, 'message rejected, sent to the dead-letter topic');
    }
    await this.producer.send({ topic: dlqTopic(topic), acks: -1, messages });
    this.counters.deadLettered += messages.length;
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.ingestQueue.then(fn);
    this.ingestQueue = run.catch(() => undefined);
    return run;
  }
}
