import { Kafka, logLevel, type LogEntry } from 'kafkajs';

/** The logging surface the messaging classes use; a pino logger fits it. */
export interface MessagingLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Logs nothing. */
export const silentLogger: MessagingLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface KafkaClientOptions {
  brokers: readonly string[];
  clientId?: string;
  /** kafkajs' own logs go here (default: nowhere). */
  logger?: MessagingLogger;
  /** Default WARN. */
  level?: logLevel;
  connectionTimeoutMs?: number;
  /** Retries of every request (kafkajs default 5). */
  retries?: number;
}

/** A kafkajs client whose logs go to our logger (JSON through pino in the apps) instead of the console. */
export function createKafka(options: KafkaClientOptions): Kafka {
  const logger = options.logger ?? silentLogger;
  return new Kafka({
    clientId: options.clientId ?? 'courier-crm',
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    ...(options.retries !== undefined ? { retry: { retries: options.retries } } : {}),
    logLevel: options.level ?? logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, timestamp: _t, ...extra } = log;
        const obj = { kafkajs: namespace, ...extra };
        if (level === logLevel.ERROR) logger.error(obj, message);
        else if (level === logLevel.WARN) logger.warn(obj, message);
        else if (level === logLevel.INFO) logger.info(obj, message);
        else logger.debug(obj, message);
      },
  });
}

/** Parses `host:port,host:port`; throws naming what is wrong. */
export function parseBrokers(value: string): string[] {
  const brokers = value
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokers.length === 0) throw new Error('no broker given (expected host:port[,host:port...])');
  for (const b of brokers) {
    const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(b);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`"${b}" is not host:port`);
  }
  return brokers;
}
