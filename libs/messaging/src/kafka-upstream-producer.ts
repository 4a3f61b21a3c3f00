import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { topicOfType, upstreamTopics, type TopicNames } from './topics';

export interface ProduceSummary {
  published: number;
  /** Lines that could not be routed to a topic (not JSON, not an object, unknown `type`); nothing was sent for them. */
  skipped: number;
  /** Messages per topic. */
  topics: Record<string, number>;
  skippedLines: { line: number; reason: string }[];
}

export interface KafkaUpstreamProducerOptions {
  kafka: Kafka;
  /** Topic names; default the four of DESIGN §3. */
  topics?: TopicNames;
  /** Messages per send (default 500): memory stays bounded whatever the input size. */
  batchSize?: number;
}

/** One input item: a line of text (as read from NDJSON) or an already parsed value. */
export type PublishInput = { line: number; raw: string } | { line: number; value: unknown };

/** A message ready to send: its topic, key (customerId) and value. */
export interface RoutedMessage {
  topic: string;
  message: Message;
}

/**
 * Publishes upstream events (DESIGN §3) the way the upstream systems do: each event to the topic of its
 * `type`, keyed by `customerId` so one customer's events stay in one partition per topic, in order. It only
 * routes: validating is the consumer's job (a malformed but routable event is published and ends up in the
 * dead-letter topic). Sends wait for all in-sync replicas (acks=all), one request in flight, so order holds
 * under retries.
 */
export class KafkaUpstreamProducer {
  private readonly producer: Producer;
  private readonly topics: TopicNames;
  private readonly batchSize: number;

  constructor(options: KafkaUpstreamProducerOptions) {
    this.producer = options.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, maxInFlightRequests: 1 });
    this.topics = options.topics ?? upstreamTopics();
    this.batchSize = Math.max(1, options.batchSize ?? 500);
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  /** The topic and keyed message for one upstream event (a parsed object or its JSON text), or the reason it can't be routed. */
  route(event: unknown): RoutedMessage | { error: string } {
    let value: unknown = event;
    let text: string;
    if (typeof event === 'string') {
      text = event;
      try {
        value = JSON.parse(event);
      } catch (e) {
        return { error: `not valid JSON: ${(e as Error).message}` };
      }
    } else text = JSON.stringify(event);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'message must be a JSON object' };
    const { type, customerId } = value as { type?: unknown; customerId?: unknown };
    const topic = topicOfType(type, this.topics);
    if (topic === undefined) return { error: `type ${JSON.stringify(type) ?? 'undefined'} is not an upstream event type` };
    return { topic, message: { key: typeof customerId === 'string' ? customerId : null, value: text } };
  }

  /** Sends already routed messages (one request, grouped by topic). */
  async send(messages: readonly RoutedMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const byTopic = new Map<string, Message[]>();
    for (const m of messages) {
      let list = byTopic.get(m.topic);
      if (!list) byTopic.set(m.topic, (list = []));
      list.push(m.message);
    }
    await this.producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })) });
  }

  /** Publishes events (e.g. the lines of an NDJSON file) in bounded batches, in input order. */
  async publish(
    input: Iterable<PublishInput> | AsyncIterable<PublishInput>,
    onBatch?: (summary: ProduceSummary) => void,
  ): Promise<ProduceSummary> {
    const summary: ProduceSummary = { published: 0, skipped: 0, topics: {}, skippedLines: [] };
    let batch: RoutedMessage[] = [];
    const flush = async () => {
      await this.send(batch);
      for (const m of batch) summary.topics[m.topic] = (summary.topics[m.topic] ?? 0) + 1;
      summary.published += batch.length;
      batch = [];
      onBatch?.(summary);
    };
    for await (const item of input) {
      const routed = this.route('raw' in item ? item.raw : item.value);
      if ('error' in routed) {
        summary.skipped++;
        summary.skippedLines.push({ line: item.line, reason: routed.error });
        continue;
      }
      batch.push(routed);
      if (batch.length >= this.batchSize) await flush();
    }
    if (batch.length > 0) await flush();
    return summary;
  }
}
