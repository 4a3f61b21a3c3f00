import { resolve } from 'path';

export * from './api-tokens';

/** Where the embedded default keeps its files (`CRM_DATA_DIR`, default ./data). */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.CRM_DATA_DIR && env.CRM_DATA_DIR.trim() !== '' ? env.CRM_DATA_DIR : './data');
}

export * from './stack';
