import 'reflect-metadata';
import { join } from 'path';
import { ConfigError, dataDir, loadApiTokens, loadMongoConfig, loadStoreConfig } from '@crm/config';
import { loadDemo } from '@crm/demo';
import { EventStoreDbEventStore } from '@crm/event-store';
import { createWriteSide, openEmbeddedWriteSide, SqliteQuarantine, type WriteSide } from '@crm/ingest';
import { ReadSide, ReadSideReader, type ReadView } from '@crm/projections';
import { MemoryReadModelStore, MongoReadModelStore } from '@crm/read-model';
import { createApp } from './bootstrap';

/**
 * `npm start`: API + ingest + projections in one process on the embedded default.
 * With MONGO_URL (the production stack): reads come from the MongoDB read model that apps/projector keeps
 * (no projection runs here; read-your-writes polls the views' checkpoints), and writes go to EventStoreDB
 * when EVENTSTORE_URL is set (else the embedded store under CRM_DATA_DIR), the store the projector reads.
 */
async function main(): Promise<void> {
  const dir = dataDir();
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT must be a TCP port number, got "${process.env.PORT}"`);
  const storeConfig = loadStoreConfig(process.env);
  const mongo = loadMongoConfig(process.env, false);
  const tokens = loadApiTokens(dir);
  const writeSide: WriteSide = storeConfig.eventStoreUrl
    ? createWriteSide(EventStoreDbEventStore.connect(storeConfig.eventStoreUrl), new SqliteQuarantine(join(dir, 'quarantine.sqlite')))
    : openEmbeddedWriteSide(dir);
  if (process.env.CRM_DEMO !== '0' && (await writeSide.store.headPosition()) === 0n) {
    process.stderr.write(`empty data directory ${dir}: loading the demo history (CRM_DEMO=0 to skip)…\n`);
    const r = await loadDemo(writeSide, {}, (m) => process.stderr.write(m + '\n'));
    process.stderr.write(`demo loaded: ${r.accepted} events\n`);
  }
  const started = Date.now();
  let readSide: ReadView;
  if (mongo !== undefined) {
    readSide = await ReadSideReader.open(writeSide.store, await MongoReadModelStore.connect(mongo.url, mongo.db));
    process.stderr.write(`reading the projections from MongoDB database ${mongo.db} (kept by apps/projector), at position ${readSide.position}\n`);
  } else {
    readSide = await ReadSide.open(writeSide.store, new MemoryReadModelStore());
    process.stderr.write(`projections built to position ${readSide.position} in ${Date.now() - started} ms\n`);
  }
  const app = await createApp({ writeSide, readSide, tokens });
  app.enableShutdownHooks();
  process.once('SIGTERM', () => void readSide.close());
  await app.listen(port, '0.0.0.0');
  process.stderr.write(`courier-crm listening on http://localhost:${port}\n  OpenAPI: http://localhost:${port}/docs\n  data: ${dir}\n`);
  process.stderr.write(tokens.adminTokenFile !== null ? `  admin token: ${tokens.adminTokenFile} (curl -H "Authorization: Bearer $(cat ${tokens.adminTokenFile})" …)\n` : `  tokens: from CRM_API_TOKENS (${tokens.byToken.size})\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(err instanceof ConfigError ? `courier-crm: configuration error: ${err.message}\n` : `courier-crm failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
