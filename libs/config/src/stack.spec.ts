import { ConfigError } from './api-tokens';
import { loadMongoConfig, loadProjectorConfig, loadStoreConfig } from './stack';

const base = { MONGO_URL: 'mongodb://127.0.0.1:27017' };

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('no ConfigError');
}

describe('production-stack configuration', () => {
  it('defaults: embedded store under ./data, database crm, lease crm-projector with a 15 s TTL renewed every 5 s', () => {
    const c = loadProjectorConfig(base, 'p1');
    expect(c).toMatchObject({ url: base.MONGO_URL, db: 'crm', leaseName: 'crm-projector', instanceId: 'p1', leaseTtlMs: 15000, leaseRenewMs: 5000, httpPort: 9465, bulkMode: 'replace' });
    expect(c.eventStoreUrl).toBeUndefined();
    expect(c.dataDir).toMatch(/data$/);
  });

  it('names the variable that is wrong', () => {
    expect(errorOf(() => loadProjectorConfig({}))).toMatch(/^MONGO_URL is required/);
    expect(errorOf(() => loadProjectorConfig({ MONGO_URL: 'http://x' }))).toMatch(/^MONGO_URL must be/);
    expect(errorOf(() => loadProjectorConfig({ ...base, MONGO_DB: 'a.b' }))).toMatch(/^MONGO_DB /);
    expect(errorOf(() => loadProjectorConfig({ ...base, EVENTSTORE_URL: 'http://es:2113' }))).toMatch(/^EVENTSTORE_URL /);
    expect(errorOf(() => loadProjectorConfig({ ...base, PROJECTOR_LEASE_TTL_MS: 'soon' }))).toMatch(/^PROJECTOR_LEASE_TTL_MS /);
    expect(errorOf(() => loadProjectorConfig({ ...base, PROJECTOR_LEASE_TTL_MS: '3000', PROJECTOR_LEASE_RENEW_MS: '1500' }))).toMatch(/^PROJECTOR_LEASE_RENEW_MS .* less than half/);
    expect(errorOf(() => loadProjectorConfig({ ...base, PROJECTOR_HTTP_PORT: '70000' }))).toMatch(/^PROJECTOR_HTTP_PORT /);
    expect(errorOf(() => loadProjectorConfig({ ...base, MONGO_BULK_MODE: 'fast' }))).toMatch(/^MONGO_BULK_MODE /);
    expect(errorOf(() => loadProjectorConfig({ ...base, LOG_LEVEL: 'loud' }))).toMatch(/^LOG_LEVEL /);
  });

  it('the API needs MONGO_URL only for the production stack, and takes EventStoreDB connection strings', () => {
    expect(loadMongoConfig({}, false)).toBeUndefined();
    expect(loadMongoConfig({ MONGO_URL: 'mongodb://mongo:27017/?replicaSet=rs0', MONGO_DB: 'crm2' }, false)).toEqual({ url: 'mongodb://mongo:27017/?replicaSet=rs0', db: 'crm2' });
    expect(loadStoreConfig({ EVENTSTORE_URL: 'esdb://eventstore:2113?tls=false', CRM_DATA_DIR: '/tmp/x' })).toEqual({ eventStoreUrl: 'esdb://eventstore:2113?tls=false', dataDir: '/tmp/x' });
  });
});
