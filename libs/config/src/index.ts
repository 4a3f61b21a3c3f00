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

/** What graceful shutdown needs of a logger (pino's signature). */
export interface ShutdownLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * A deployable's shutdown, run at most once: `stop` finishes and closes everything; the process then exits with
 * `code` (1 if stopping failed), or with 1 after `timeoutMs` if stopping hangs. SIGTERM and SIGINT call it.
 */
export function gracefulShutdown(log: ShutdownLogger, timeoutMs: number, stop: () => Promise<void>): (reason: string, code?: number) => Promise<void> {
  let shuttingDown = false;
  const shutdown = async (reason: string, code = 0): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ reason }, 'shutting down');
    setTimeout(() => {
      log.error({ timeoutMs }, 'graceful shutdown timed out');
      process.exit(1);
    }, timeoutMs).unref();
    try {
      await stop();
      log.info({}, 'stopped');
    } catch (err) {
      log.error({ err }, 'error during shutdown');
      code = code || 1;
    }
    process.exit(code);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  return shutdown;
}
