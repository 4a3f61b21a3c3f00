import { isAbsolute, resolve } from 'path';
import { ConfigError as BaseConfigError } from '@crm/config';
import { parseBrokers, TOPIC_NAME, upstreamTopics } from '@crm/messaging';

/** Configuration of the ingest process, from the environment (validated at start). */
export interface IngestConfig {
  brokers: string[];
  groupId: string;
  topics: string[];
  dataDir: string;
  /** EventStoreDB connection string; undefined = the embedded SQLite store under dataDir. */
  eventStoreUrl?: string;
  /** Port of the /health and /metrics endpoint; 0 = none. */
  httpPort: number;
  logLevel: string;
  partitionsConsumedConcurrently: number;
  maxBytes: number;
  maxBytesPerPartition: number;
  fromBeginning: boolean;
  sessionTimeoutMs: number;
}

/** A configuration error that names the variable. */
export class ConfigError extends BaseConfigError {
  constructor(readonly variable: string, problem: string) {
    super(`${variable}: ${problem}`);
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Reads and validates the environment:
 * KAFKA_BROKERS (required, host:port[,host:port]), KAFKA_GROUP_ID (default crm-ingest), KAFKA_TOPICS
 * (comma-separated; default the four topics of DESIGN §3), CRM_DATA_DIR (default ./data), EVENTSTORE_URL
 * (optional: esdb://… or esdb+discover://…), INGEST_HTTP_PORT (default 9464, 0 = off), LOG_LEVEL (info),
 * KAFKA_PARTITIONS_CONCURRENTLY (1), KAFKA_MAX_BYTES (10485760), KAFKA_MAX_BYTES_PER_PARTITION (1048576),
 * KAFKA_FROM_BEGINNING (true: a new group reads each topic from its start), KAFKA_SESSION_TIMEOUT_MS (30000:
 * how long the group waits for a member that died before reassigning its partitions).
 * Throws a ConfigError naming the first variable that is wrong.
 */
export function loadIngestConfig(env: NodeJS.ProcessEnv): IngestConfig {
  const get = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const v = get(name);
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new ConfigError(name, `must be an integer from ${min} to ${max}, got "${v}"`);
    return Number(v);
  };

  const brokersText = get('KAFKA_BROKERS');
  if (brokersText === undefined) throw new ConfigError('KAFKA_BROKERS', 'is required (e.g. KAFKA_BROKERS=127.0.0.1:19092)');
  let brokers: string[];
  try {
    brokers = parseBrokers(brokersText);
  } catch (e) {
    throw new ConfigError('KAFKA_BROKERS', (e as Error).message);
  }

  const groupId = get('KAFKA_GROUP_ID') ?? 'crm-ingest';
  if (!/^[A-Za-z0-9._-]{1,255}$/.test(groupId)) throw new ConfigError('KAFKA_GROUP_ID', `"${groupId}" must be 1-255 characters of [A-Za-z0-9._-]`);

  const defaults = upstreamTopics();
  const topicsText = get('KAFKA_TOPICS');
  const topics = topicsText === undefined ? [defaults.customers, defaults.shipments, defaults.payments, defaults.complaints] : topicsText.split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (topics.length === 0) throw new ConfigError('KAFKA_TOPICS', 'lists no topic');
  for (const t of topics) {
    if (!TOPIC_NAME.test(t)) throw new ConfigError('KAFKA_TOPICS', `"${t}" is not a valid topic name ([A-Za-z0-9._-], at most 249)`);
    if (t.endsWith('.dlq')) throw new ConfigError('KAFKA_TOPICS', `"${t}" is a dead-letter topic; list the source topics`);
  }

  const dataDirText = get('CRM_DATA_DIR') ?? './data';
  const dataDir = isAbsolute(dataDirText) ? dataDirText : resolve(dataDirText);

  const eventStoreUrl = get('EVENTSTORE_URL');
  if (eventStoreUrl !== undefined && !/^(esdb|esdb\+discover):\/\/\S+$/.test(eventStoreUrl)) {
    throw new ConfigError('EVENTSTORE_URL', 'must be an EventStoreDB connection string, e.g. esdb://127.0.0.1:2113?tls=false');
  }

  const logLevel = get('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);

  const fromBeginningText = get('KAFKA_FROM_BEGINNING') ?? 'true';
  if (!['true', 'false', '1', '0'].includes(fromBeginningText)) throw new ConfigError('KAFKA_FROM_BEGINNING', `must be true or false, got "${fromBeginningText}"`);

  return {
    brokers,
    groupId,
    topics,
    dataDir,
    ...(eventStoreUrl !== undefined ? { eventStoreUrl } : {}),
    httpPort: int('INGEST_HTTP_PORT', 9464, 0, 65535),
    logLevel,
    partitionsConsumedConcurrently: int('KAFKA_PARTITIONS_CONCURRENTLY', 1, 1, 64),
    maxBytes: int('KAFKA_MAX_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxBytesPerPartition: int('KAFKA_MAX_BYTES_PER_PARTITION', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    fromBeginning: fromBeginningText === 'true' || fromBeginningText === '1',
    sessionTimeoutMs: int('KAFKA_SESSION_TIMEOUT_MS', 30_000, 6_000, 300_000),
  };
}
