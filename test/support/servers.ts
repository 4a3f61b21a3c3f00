import { ChildProcess, spawn } from 'child_process';
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { SqliteEventStore, type StoredEvent } from '@crm/event-store';

/** Helpers of the real-server suites (*.servers-spec.ts): polling, child processes of the built apps, store files. */

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The built entry points must exist and have their @crm/* aliases resolved (`npm run build`). */
export function checkBuilt(files: readonly string[]): void {
  for (const f of files) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` before the servers suites`);
    if (/require\("@crm\//.test(readFileSync(f, 'utf8'))) throw new Error(`${f} still requires @crm/* aliases (tsc-alias did not run): run \`npm run build\``);
  }
}

export interface Child {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a built app as a child process (listed in `running` until it exits, so the suite can kill leftovers). */
export function startChild(main: string, env: Record<string, string>, running: Set<ChildProcess>): Child {
  let out = '';
  const proc = spawn(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.once('exit', (code, signal) => {
      running.delete(proc);
      r({ code, signal });
    }),
  );
  return { proc, output: () => out, exited };
}

export function stopChild(child: Child, signal: NodeJS.Signals, timeoutMs: number) {
  child.proc.kill(signal);
  return withTimeout(child.exited, timeoutMs, `process to exit after ${signal}; its output:\n${child.output().slice(-3000)}`);
}

/** Every event of a store file, in position order (opened and closed for the read). */
export async function allEvents(dataDir: string): Promise<StoredEvent[]> {
  const store = SqliteEventStore.open(join(dataDir, 'events.sqlite'));
  try {
    const out: StoredEvent[] = [];
    for await (const e of store.readAll()) out.push(e);
    return out;
  } finally {
    await store.close();
  }
}

/** How many of `ids` a store file holds. */
export async function countPresent(dataDir: string, ids: string[]): Promise<number> {
  const store = SqliteEventStore.open(join(dataDir, 'events.sqlite'));
  try {
    return (await store.existingEventIds(ids)).size;
  } finally {
    await store.close();
  }
}
