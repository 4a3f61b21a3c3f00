import { statSync } from 'fs';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { readNdjsonFile } from '@crm/ingest';
import { createKafka, KafkaUpstreamProducer, parseBrokers, upstreamTopics } from '@crm/messaging';
import { info, printJson, progress } from './output';

interface ProduceOptions {
  brokers?: string;
  topicPrefix: string;
  batchSize: number;
  json?: boolean;
}

const brokerList = (v: string): string => {
  try {
    parseBrokers(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return v;
};

const positive = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

/**
 * `crm produce <file.ndjson>`: publishes upstream events to Kafka like the upstream systems do — each to the
 * topic of its type (DESIGN §3: crm.customers, waybill.shipments, billing.payments, service.complaints, with
 * an optional prefix), keyed by customerId, in bounded batches. Lines that cannot be routed (not JSON, no
 * known type) are skipped and reported; everything else is validated by the consumer (dead-letter topic).
 */
export function registerProduceCommand(program: Command): void {
  program
    .command('produce <file>')
    .description('publish upstream events from an NDJSON file to Kafka, each to its topic, keyed by customerId')
    .option('--brokers <list>', 'Kafka brokers host:port[,host:port] (default $KAFKA_BROKERS)', brokerList)
    .option('--topic-prefix <prefix>', 'prefix of the topic names', '')
    .option('--batch-size <n>', 'messages per send', positive, 500)
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (file: string, opts: ProduceOptions) => {
      const brokersText = opts.brokers ?? process.env.KAFKA_BROKERS;
      if (!brokersText) throw new InvalidArgumentError('no brokers: pass --brokers host:port or set KAFKA_BROKERS');
      const brokers = parseBrokers(brokersText);
      const size = statSync(file).size;
      const bar = progress(size, 'bytes');
      const producer = new KafkaUpstreamProducer({
        kafka: createKafka({ brokers, clientId: 'crm-produce', retries: 3 }),
        topics: upstreamTopics(opts.topicPrefix),
        batchSize: opts.batchSize,
      });
      await producer.connect();
      try {
        const summary = await producer.publish(readNdjsonFile(file, (b) => bar.update(b)));
        bar.stop();
        if (opts.json) printJson(summary);
        else {
          console.log(`published ${summary.published}, skipped ${summary.skipped}`);
          for (const [topic, n] of Object.entries(summary.topics)) console.log(`  ${topic}: ${n}`);
          for (const s of summary.skippedLines.slice(0, 20)) info(`  line ${s.line}: ${s.reason}`);
          if (summary.skippedLines.length > 20) info(`  … ${summary.skippedLines.length - 20} more skipped lines`);
        }
      } finally {
        bar.stop();
        await producer.disconnect();
      }
    });
}
