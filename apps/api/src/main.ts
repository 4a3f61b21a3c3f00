import 'reflect-metadata';
import { dataDir } from '@crm/config';
import { openEmbeddedWriteSide } from '@crm/ingest';
import { createApp } from './bootstrap';
import { loadDemo } from '@crm/demo';

async function main(): Promise<void> {
  const dir = dataDir();
  const writeSide = openEmbeddedWriteSide(dir);
  if (process.env.CRM_DEMO !== '0' && (await writeSide.store.headPosition()) === 0n) {
    process.stderr.write(`empty data directory ${dir}: loading the demo history (CRM_DEMO=0 to skip)…\n`);
    const r = await loadDemo(writeSide, {}, (m) => process.stderr.write(m + '\n'));
    process.stderr.write(`demo loaded: ${r.accepted} events\n`);
  }
  const app = await createApp(writeSide);
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, '0.0.0.0');
  process.stderr.write(`courier-crm listening on http://localhost:${port}  (OpenAPI: http://localhost:${port}/docs, data: ${dir})\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`courier-crm failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
