#!/usr/bin/env node
/**
 * The projector deployable: the event store (EVENTSTORE_URL → EventStoreDB, else the embedded SQLite store
 * under CRM_DATA_DIR) → every view → MongoDB (MONGO_URL, MONGO_DB). Several instances may run: they
 * compete for one lease in the read-model store and only the holder projects (see leased-projector.ts and
 * the README, "Several projectors"). Configuration: loadProjectorConfig (@crm/config), validated at start.
 * GET /health (200 leader or standby) and GET /metrics (role, position, commits) on PROJECTOR_HTTP_PORT.
 * SIGTERM/SIGINT: stop projecting, free the lease (a standby takes over at once), close, exit.
 */
import { createServer, type Server } from 'http';
import { hostname } from 'os';
import { join } from 'path';
import pino from 'pino';
import { gracefulShutdown, loadProjectorConfig, runDeployable } from '@crm/config';
import { EventStoreDbEventStore, SqliteEventStore, type EventStore } from '@crm/event-store';
import { MongoReadModelStore } from '@crm/read-model';
import { LeasedProjector } from './leased-projector';

const SHUTDOWN_TIMEOUT_MS = 30_000;

function startHttp(p: LeasedProjector, instanceId: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    const status = { role: p.currentRole, instanceId, position: String(p.position), commits: p.fenced.commits, lastCommitted: String(p.fenced.lastCommitted), terms: p.terms };
    if (path === '/health') return send(p.currentRole === 'stopped' ? 503 : 200, { status: 'ok', ...status });
    if (path === '/metrics') return send(200, status);
    send(404, { error: 'not found; try /health or /metrics' });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve(server));
  });
}

async function main(): Promise<void> {
  const config = loadProjectorConfig(process.env, `${hostname()}-${process.pid}`);
  const log = pino({ level: config.logLevel, base: { app: 'crm-projector', instance: config.instanceId } });
  const store: EventStore = config.eventStoreUrl ? EventStoreDbEventStore.connect(config.eventStoreUrl) : SqliteEventStore.open(join(config.dataDir, 'events.sqlite'));
  const readModel = await MongoReadModelStore.connect(config.url, config.db);
  readModel.bulkMode = config.bulkMode;
  const projector = new LeasedProjector(store, readModel, {
    leaseName: config.leaseName,
    instanceId: config.instanceId,
    leaseTtlMs: config.leaseTtlMs,
    leaseRenewMs: config.leaseRenewMs,
    log: (level, msg, fields) => log[level](fields ?? {}, msg),
  });
  const http = config.httpPort > 0 ? await startHttp(projector, config.instanceId, config.httpPort) : undefined;

  gracefulShutdown(log, SHUTDOWN_TIMEOUT_MS, async () => {
    http?.close();
    await projector.stop();
    await readModel.close();
    await store.close();
  });

  log.info(
    { store: config.eventStoreUrl ? 'eventstoredb' : `sqlite:${config.dataDir}`, mongoDb: config.db, bulkMode: config.bulkMode, lease: config.leaseName, leaseTtlMs: config.leaseTtlMs, httpPort: config.httpPort || null },
    'starting projector',
  );
  await projector.start();
}

runDeployable('crm-projector', main);
