import { resolve } from 'path';
import { ConfigError } from './api-tokens';

/**
 * Environment of the production stack's deployables (apps/api with MONGO_URL, apps/projector), validated
 * at start: every error is a ConfigError whose message starts with the variable's name.
 */
export interface StoreConfig {
  /** EventStoreDB connection string; undefined = the embedded SQLite store under dataDir. */
  eventStoreUrl?: string;
  dataDir: string;
}

export interface MongoConfig {
  url: string;
  db: string;
}

export interface ProjectorConfig extends StoreConfig, MongoConfig {
  /** Name of the lease every projector instance competes for (one per read-model database). */
  leaseName: string;
  /** Unique per instance (default host-pid-random). */
  instanceId: string;
  leaseTtlMs: number;
  /** How often the leader renews and a standby tries to take the lease. */
  leaseRenewMs: number;
  /** Port of /health and /metrics (role, position, commits); 0 = none. */
  httpPort: number;
  logLevel: string;
  /** How commits write to MongoDB (MONGO_BULK_MODE, see MongoReadModelStore.bulkMode). */
  bulkMode: 'replace' | 'delete-insert';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const get = (env: NodeJS.ProcessEnv, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
};

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const v = get(env, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${v}"`);
  return Number(v);
}

/** EVENTSTORE_URL (optional: esdb://… or esdb+discover://…), else CRM_DATA_DIR (./data) for the embedded store. */
export function loadStoreConfig(env: NodeJS.ProcessEnv = process.env): StoreConfig {
  const eventStoreUrl = get(env, 'EVENTSTORE_URL');
  if (eventStoreUrl !== undefined && !/^(esdb|esdb\+discover|kurrentdb|kurrentdb\+discover):\/\/\S+$/.test(eventStoreUrl))
    throw new ConfigError(`EVENTSTORE_URL must be an EventStoreDB connection string, e.g. esdb://127.0.0.1:2113?tls=false, got "${eventStoreUrl}"`);
  return { ...(eventStoreUrl !== undefined ? { eventStoreUrl } : {}), dataDir: resolve(get(env, 'CRM_DATA_DIR') ?? './data') };
}

/** MONGO_URL (mongodb://… or mongodb+srv://…) and MONGO_DB (default crm). `required`: MONGO_URL must be set. */
export function loadMongoConfig(env: NodeJS.ProcessEnv = process.env, required = true): MongoConfig | undefined {
  const url = get(env, 'MONGO_URL');
  if (url === undefined) {
    if (required) throw new ConfigError('MONGO_URL is required (e.g. MONGO_URL=mongodb://127.0.0.1:27017)');
    return undefined;
  }
  if (!/^mongodb(\+srv)?:\/\/\S+$/.test(url)) throw new ConfigError(`MONGO_URL must be a MongoDB connection string (mongodb://host:port), got "${url}"`);
  const db = get(env, 'MONGO_DB') ?? 'crm';
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(db)) throw new ConfigError(`MONGO_DB must be 1-63 characters of [A-Za-z0-9_-], got "${db}"`);
  return { url, db };
}

/**
 * The projector deployable: the store (loadStoreConfig), MongoDB (loadMongoConfig, required), PROJECTOR_LEASE
 * (default crm-projector), PROJECTOR_INSTANCE_ID, PROJECTOR_LEASE_TTL_MS (15000), PROJECTOR_LEASE_RENEW_MS
 * (a third of the TTL; must be less than half of it), PROJECTOR_HTTP_PORT (9465, 0 = off), LOG_LEVEL (info),
 * MONGO_BULK_MODE (replace | delete-insert: for FerretDB v1, see MongoReadModelStore.bulkMode).
 */
export function loadProjectorConfig(env: NodeJS.ProcessEnv = process.env, defaultInstanceId = `projector-${process.pid}`): ProjectorConfig {
  const store = loadStoreConfig(env);
  const mongo = loadMongoConfig(env, true) as MongoConfig;
  const leaseName = get(env, 'PROJECTOR_LEASE') ?? 'crm-projector';
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(leaseName)) throw new ConfigError(`PROJECTOR_LEASE must be 1-100 characters of [A-Za-z0-9._-], got "${leaseName}"`);
  const instanceId = get(env, 'PROJECTOR_INSTANCE_ID') ?? defaultInstanceId;
  if (!/^[A-Za-z0-9._:-]{1,100}$/.test(instanceId)) throw new ConfigError(`PROJECTOR_INSTANCE_ID must be 1-100 characters of [A-Za-z0-9._:-], got "${instanceId}"`);
  const leaseTtlMs = int(env, 'PROJECTOR_LEASE_TTL_MS', 15_000, 1_000, 600_000);
  const leaseRenewMs = int(env, 'PROJECTOR_LEASE_RENEW_MS', Math.floor(leaseTtlMs / 3), 100, 600_000);
  if (leaseRenewMs * 2 >= leaseTtlMs) throw new ConfigError(`PROJECTOR_LEASE_RENEW_MS (${leaseRenewMs}) must be less than half of PROJECTOR_LEASE_TTL_MS (${leaseTtlMs})`);
  const logLevel = get(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const bulkMode = get(env, 'MONGO_BULK_MODE') ?? 'replace';
  if (bulkMode !== 'replace' && bulkMode !== 'delete-insert') throw new ConfigError(`MONGO_BULK_MODE must be replace or delete-insert, got "${bulkMode}"`);
  return { ...store, ...mongo, leaseName, instanceId, leaseTtlMs, leaseRenewMs, httpPort: int(env, 'PROJECTOR_HTTP_PORT', 9465, 0, 65535), logLevel, bulkMode };
}
