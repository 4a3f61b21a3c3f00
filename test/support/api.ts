import type { INestApplication } from '@nestjs/common';
import { loadApiTokens } from '@crm/config';
import { openEmbeddedWriteSide, type WriteSide } from '@crm/ingest';
import { ReadSide } from '@crm/projections';
import { MemoryReadModelStore } from '@crm/read-model';
import { createApp } from '../../apps/api/src/bootstrap';

/** One token per role (two managers), as CRM_API_TOKENS would configure them. */
export const TOKENS = {
  ingest: 'tok-ingest-0001',
  managerA: 'tok-manager-M1',
  managerB: 'tok-manager-M2',
  analyst: 'tok-analyst-001',
  auditor: 'tok-auditor-001',
  admin: 'tok-admin-00001',
} as const;

export const TOKENS_ENV = JSON.stringify({
  [TOKENS.ingest]: { role: 'ingest' },
  [TOKENS.managerA]: { role: 'manager', managerId: 'M1' },
  [TOKENS.managerB]: { role: 'manager', managerId: 'M2' },
  [TOKENS.analyst]: { role: 'analyst' },
  [TOKENS.auditor]: { role: 'auditor' },
  [TOKENS.admin]: { role: 'admin' },
});

export interface RunningApi {
  app: INestApplication;
  base: string;
  writeSide: WriteSide;
  readSide: ReadSide;
  close(): Promise<void>;
}

/** The embedded API on a random loopback port over a data directory, with the test tokens. */
export async function startApi(dir: string): Promise<RunningApi> {
  const writeSide = openEmbeddedWriteSide(dir);
  const readSide = await ReadSide.open(writeSide.store, new MemoryReadModelStore());
  const app = await createApp({ writeSide, readSide, tokens: loadApiTokens(dir, { CRM_API_TOKENS: TOKENS_ENV }) }, { logLevel: 'silent' });
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();
  return {
    app,
    base,
    writeSide,
    readSide,
    async close() {
      await app.close();
      await readSide.close();
      await writeSide.close();
    },
  };
}
