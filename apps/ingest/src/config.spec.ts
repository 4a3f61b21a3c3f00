import { resolve } from 'path';
import { ConfigError, loadIngestConfig } from './config';

const base = { KAFKA_BROKERS: '127.0.0.1:19092' };

describe('loadIngestConfig', () => {
  it('needs only KAFKA_BROKERS and defaults the rest', () => {
    expect(loadIngestConfig(base)).toEqual({
      brokers: ['127.0.0.1:19092'],
      groupId: 'crm-ingest',
      topics: ['crm.customers', 'waybill.shipments', 'billing.payments', 'service.complaints'],
      dataDir: resolve('./data'),
      httpPort: 9464,
      logLevel: 'info',
      partitionsConsumedConcurrently: 1,
      maxBytes: 10 * 1024 * 1024,
      maxBytesPerPartition: 1024 * 1024,
      fromBeginning: true,
      sessionTimeoutMs: 30_000,
    });
  });

  it('reads every variable', () => {
    const c = loadIngestConfig({
      KAFKA_BROKERS: ' kafka-1:9092, kafka-2:9092 ',
      KAFKA_GROUP_ID: 'crm-ingest-prod',
      KAFKA_TOPICS: 'a.customers,b.shipments',
      CRM_DATA_DIR: '/var/lib/crm',
      EVENTSTORE_URL: 'esdb://esdb:2113?tls=false',
      INGEST_HTTP_PORT: '0',
      LOG_LEVEL: 'debug',
      KAFKA_PARTITIONS_CONCURRENTLY: '4',
      KAFKA_MAX_BYTES: '2048',
      KAFKA_MAX_BYTES_PER_PARTITION: '1024',
      KAFKA_FROM_BEGINNING: 'false',
      KAFKA_SESSION_TIMEOUT_MS: '10000',
    });
    expect(c).toMatchObject({
      brokers: ['kafka-1:9092', 'kafka-2:9092'],
      groupId: 'crm-ingest-prod',
      topics: ['a.customers', 'b.shipments'],
      dataDir: '/var/lib/crm',
      eventStoreUrl: 'esdb://esdb:2113?tls=false',
      httpPort: 0,
      logLevel: 'debug',
      partitionsConsumedConcurrently: 4,
      maxBytes: 2048,
      maxBytesPerPartition: 1024,
      fromBeginning: false,
      sessionTimeoutMs: 10_000,
    });
  });

  it.each([
    [{}, 'KAFKA_BROKERS', /required/],
    [{ KAFKA_BROKERS: 'localhost' }, 'KAFKA_BROKERS', /host:port/],
    [{ ...base, KAFKA_GROUP_ID: 'a group' }, 'KAFKA_GROUP_ID', /A-Za-z0-9/],
    [{ ...base, KAFKA_TOPICS: 'ok,not ok' }, 'KAFKA_TOPICS', /not ok/],
    [{ ...base, KAFKA_TOPICS: 'waybill.shipments.dlq' }, 'KAFKA_TOPICS', /dead-letter/],
    [{ ...base, EVENTSTORE_URL: 'http://esdb:2113' }, 'EVENTSTORE_URL', /esdb:\/\//],
    [{ ...base, INGEST_HTTP_PORT: '70000' }, 'INGEST_HTTP_PORT', /0 to 65535/],
    [{ ...base, LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', /verbose/],
    [{ ...base, KAFKA_FROM_BEGINNING: 'maybe' }, 'KAFKA_FROM_BEGINNING', /true or false/],
    [{ ...base, KAFKA_SESSION_TIMEOUT_MS: '100' }, 'KAFKA_SESSION_TIMEOUT_MS', /6000/],
  ])('rejects %j naming %s', (env, variable, problem) => {
    let error: unknown;
    try {
      loadIngestConfig(env as NodeJS.ProcessEnv);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toMatch(new RegExp(`^${variable}: `));
    expect((error as ConfigError).message).toMatch(problem);
  });
});
