import { resolve } from 'path';
import { ConfigError } from './api-tokens';

export * from './api-tokens';

/** Where the embedded default keeps its files (`CRM_DATA_DIR`, default ./data). */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.CRM_DATA_DIR && env.CRM_DATA_DIR.trim() !== '' ? env.CRM_DATA_DIR : './data');
}

export * from './stack';

/**
 * Runs a deployable's `main`; if it fails to start, says why on stderr (a configuration error by its message
 * alone, anything else with its stack) and exits 1.
 */
export function runDeployable(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const message = err instanceof ConfigError ? `invalid configuration: ${err.message}` : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`${name} failed to start: ${message}\n`);
    process.exit(1);
  });
}
