import { createServer, type Server } from 'http';
import type { KafkaIngestConsumer } from '@crm/messaging';

/**
 * A tiny HTTP endpoint for orchestrators and scrapers:
 * - `GET /health`: 200 `{"status":"ok",...}` while the consumer runs, 503 otherwise;
 * - `GET /metrics`: JSON with the consumer state, counters and lag per partition
 *   (`lag()`: high watermark minus the group's committed offset).
 */
export function startHealthServer(consumer: KafkaIngestConsumer, port: number, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, { error: 'GET only' });
    if (path === '/health') {
      const ok = consumer.state === 'running';
      return send(ok ? 200 : 503, { status: ok ? 'ok' : consumer.state, groupId: consumer.groupId, lastCommitAt: consumer.lastCommitAt });
    }
    if (path === '/metrics') {
      consumer
        .lag()
        .then((lag) => send(200, { state: consumer.state, counters: consumer.counters, lastCommitAt: consumer.lastCommitAt, lag }))
        .catch((err: unknown) => send(503, { state: consumer.state, counters: consumer.counters, error: `lag unavailable: ${(err as Error).message}` }));
      return;
    }
    send(404, { error: 'not found; try /health or /metrics' });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
