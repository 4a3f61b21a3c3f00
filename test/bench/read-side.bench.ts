import { ChildProcess, execFileSync, fork, spawn } from 'child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'fs';
import { createServer } from 'net';
import { cpus, loadavg } from 'os';
import { join, resolve } from 'path';
import { cliNodeFlags } from './cli-node-flags';
import { writeBenchFile } from './generate-events';

/**
 * Read-side part of `npm run bench` (issue 3): a store of ~1M upstream events over 100k customers with
 * 500 account managers and three closed months, cached under .cache/bench; then
 *  - the projection rebuild speed (events/s replaying the whole store into every projection), and
 *  - p50/p95/p99 of Customer 360, a portfolio page and the pyramid, measured by a separate load process
 *    on loopback against the API in its own process, with a bounded number of requests.
 */
export interface ReadSideBenchReport {
  store: { upstreamEvents: number; customers: number; managers: number; closedMonths: string[]; recordedEvents: number };
  rebuild: { events: number; eventsPerSecond: number; ms: number; firstBuildMs: number; target: number };
  api: { startMs: number; rssMiB: number };
  latency: Record<string, { requests: number; p50: number; p95: number; p99: number; max: number; status: Record<string, number> }>;
  latencyTargetP99Ms: number;
  /** The machine may be shared: load averages (1, 5, 15 min) when the bench started and ended. */
  machine: { node: string; cpus: number; loadAverageStart: number[]; loadAverageEnd: number[] };
}

const ROOT = resolve(__dirname, '../../..');
const CLI = join(ROOT, 'dist/apps/cli/src/main.js');
const API = join(ROOT, 'dist/apps/api/src/main.js');
const CLOSED = ['2026-03', '2026-04', '2026-05'];
const ADMIN = 'bench-admin-token-0001';

function crm(dataDir: string, ...args: string[]): string {
  return execFileSync('node', [...cliNodeFlags(), CLI, ...args], { env: { ...process.env, CRM_DATA_DIR: dataDir }, encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
}

/** The store, built once and cached (import + three closes of 100k customers take a few minutes). */
async function prepareStore(events: number, customers: number, managers: number): Promise<string> {
  const dir = resolve(`.cache/bench/read-side-${events}-${customers}`);
  const dataDir = join(dir, 'data');
  if (existsSync(join(dir, 'ready'))) return dataDir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'events.ndjson');
  process.stderr.write(`bench(read side): generating ${events} events over ${customers} customers…\n`);
  await writeBenchFile(file + '.tmp', events, customers, 11);
  // Every customer gets one of `managers` account managers at the end of the history.
  let lines = '';
  for (let c = 0; c < customers; c++) {
    lines += JSON.stringify({
      eventId: `00000000-0000-4000-9000-${c.toString(16).padStart(12, '0')}`,
      type: 'AccountManagerAssigned',
      occurredAt: '2026-06-20T09:00:00+08:00',
      customerId: `B${String(c).padStart(6, '0')}`,
      data: { managerId: `M${String(c % managers).padStart(3, '0')}` },
    }) + '\n';
  }
  appendFileSync(file + '.tmp', lines);
  renameSync(file + '.tmp', file);
  process.stderr.write('bench(read side): importing…\n');
  crm(dataDir, 'import', file, '--json');
  for (const m of CLOSED) {
    process.stderr.write(`bench(read side): closing ${m}…\n`);
    crm(dataDir, 'close-period', m, '--json');
  }
  rmSync(file);
  appendFileSync(join(dir, 'ready'), new Date().toISOString());
  return dataDir;
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? ok(a.port) : fail(new Error('no port'))));
    });
  });
}

async function waitReady(base: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`API exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`API not ready within ${timeoutMs} ms`);
}

function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : -1;
}

export async function runReadSideBench(events = Number(process.env.BENCH_READ_EVENTS ?? 1_000_000), customers = 100_000, managers = 500): Promise<ReadSideBenchReport> {
  const loadAverageStart = loadavg().map((x) => Math.round(x * 100) / 100);
  const dataDir = await prepareStore(events, customers, managers);
  process.stderr.write('bench(read side): rebuilding every projection…\n');
  const rebuild = JSON.parse(crm(dataDir, 'rebuild', '--json')) as { events: number; eventsPerSecond: number; ms: number; firstBuildMs: number };

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const started = Date.now();
  const api = spawn('node', [API], {
    env: { ...process.env, CRM_DATA_DIR: dataDir, PORT: String(port), CRM_DEMO: '0', LOG_LEVEL: 'warn', CRM_API_TOKENS: JSON.stringify({ [ADMIN]: { role: 'admin' } }) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitReady(base, api, 300_000);
    const startMs = Date.now() - started;
    process.stderr.write('bench(read side): measuring latency from a separate load process…\n');
    const latency = await new Promise<ReadSideBenchReport['latency']>((ok, fail) => {
      const load = fork(join(__dirname, 'load-runner.js'), [base, ADMIN, String(customers), String(managers)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      let result: ReadSideBenchReport['latency'] | undefined;
      load.on('message', (m) => (result = m as ReadSideBenchReport['latency']));
      load.on('exit', (code) => (result && code === 0 ? ok(result) : fail(new Error(`load runner exited with ${code}`))));
    });
    const recorded = Number((await (await fetch(`${base}/ready`)).json() as { storePosition: string }).storePosition);
    return {
      store: { upstreamEvents: events + customers, customers, managers, closedMonths: CLOSED, recordedEvents: recorded },
      rebuild: { ...rebuild, target: 200_000 },
      api: { startMs, rssMiB: peakRssMiB(api.pid as number) },
      latency,
      latencyTargetP99Ms: 10,
      machine: { node: process.version, cpus: cpus().length, loadAverageStart, loadAverageEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
    };
  } finally {
    api.kill('SIGTERM');
  }
}

if (require.main === module) {
  runReadSideBench()
    .then((r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'))
    .catch((err) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    });
}
