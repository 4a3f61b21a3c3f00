import { execFileSync, fork } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'fs';
import { cpus, loadavg, tmpdir } from 'os';
import { join, resolve } from 'path';
import { LINE_BATCHES, readNdjsonFile } from '@crm/ingest';
import { cliNodeFlags } from './cli-node-flags';
import { writeBenchFile } from './generate-events';
import { runReadSideBench } from './read-side.bench';

/**
 * `npm run bench`: writes bench-report.json (and prints it). Bounded: one generated file, one import.
 * BENCH_EVENTS sets the size (default 1,000,000). Then the read side (read-side.bench.ts: projection
 * rebuild speed, API latency at 100k customers; its store is cached under .cache/bench); BENCH_READ_SIDE=0
 * leaves it out.
 */
interface ImportReport {
  accepted: number;
  duplicates: number;
  rejected: number;
  seconds: number;
  peakRssBytes: number;
  threadCpuSeconds: number[];
  mainGc: { scavenges: number; scavengeMs: number; markCompacts: number; markCompactMs: number };
}

function runImport(dataDir: string, file: string): Promise<ImportReport> {
  return new Promise((ok, fail) => {
    const child = fork(join(__dirname, 'import-runner.js'), [dataDir, file], { execArgv: cliNodeFlags(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let report: ImportReport | undefined;
    child.on('message', (m) => (report = m as ImportReport));
    child.on('exit', (code) => (report && code === 0 ? ok(report) : fail(new Error(`import runner exited with ${code}`))));
  });
}

interface VerifyReport {
  events: number;
  streams: number;
  seconds: number;
  eventsPerSecond: number;
  clean: boolean;
  peakRssBytes: number;
}

/** `crm verify` over the imported store, in its own process. */
function runVerify(dataDir: string): Promise<VerifyReport> {
  return new Promise((ok, fail) => {
    const child = fork(join(__dirname, 'verify-runner.js'), [dataDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let report: VerifyReport | undefined;
    child.on('message', (m) => (report = m as VerifyReport));
    child.on('exit', (code) => (report && code === 0 ? ok(report) : fail(new Error(`verify runner exited with ${code}`))));
  });
}

/**
 * The raw JSON.parse rate of the same file, read the way the import reads it (a read chunk's lines at a time:
 * LINE_BATCHES). Until session 8 this went through the line iterator, an await per line, which measured
 * ~480-510k lines/s where the import's own reader gives ~600-670k: the ratio looked ~25% better than it was.
 */
async function rawParseRate(file: string): Promise<{ lines: number; seconds: number; perSecond: number }> {
  const t0 = process.hrtime.bigint();
  let lines = 0;
  for await (const items of readNdjsonFile(file)[LINE_BATCHES]()) {
    for (const item of items) {
      if ('raw' in item) JSON.parse(item.raw);
      lines++;
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { lines, seconds, perSecond: lines / seconds };
}

/**
 * Writes the page cache's dirty pages to disk (`sync`) before anything is timed, so that the kernel does not write back
 * earlier writes during the import: the generated file on a first run, or a store another run left moments before.
 * Seen in session 16 (one pair of runs): with a 543 MB store written just before and still on disk, the import's
 * checkpoint thread used 1.5 s of CPU and the import took 11.3 s; after a sync 0.9 s and 10.6 s, the main and append
 * threads' CPU the same (session 15 saw the same split in scripted imports). The import's own writes and fsyncs are
 * all still timed. Where there is no `sync` command this does nothing.
 */
function flushDirtyPages(): void {
  try {
    execFileSync('sync', { stdio: 'ignore' });
  } catch {
    // not available here: the report is only noisier
  }
}

async function main(): Promise<void> {
  const events = Number(process.env.BENCH_EVENTS ?? 1_000_000);
  const work = mkdtempSync(join(tmpdir(), 'crm-bench-'));
  const cacheDir = resolve('.cache/bench');
  mkdirSync(cacheDir, { recursive: true });
  const file = join(cacheDir, `events-${events}.ndjson`);
  if (!existsSync(file)) {
    process.stderr.write(`bench: generating ${events} events → ${file}\n`);
    await writeBenchFile(file, events);
  }
  try {
    flushDirtyPages();
    // Parsed twice right before and twice right after the import, and taken together: this host's speed drifts within
    // minutes, and single samples around one import differed by up to ~20% (session 8: 593k-704k lines/s).
    // One pass first, not counted: the first pass of this process also compiles the reader (one cold sample measured
    // 376k-411k lines/s against 590k-650k for the others).
    process.stderr.write('bench: raw JSON.parse of the file (a warm-up pass, then twice)…\n');
    await rawParseRate(file);
    const parseBefore = [await rawParseRate(file), await rawParseRate(file)];
    process.stderr.write('bench: crm import (fresh store)…\n');
    const first = await runImport(join(work, 'data'), file);
    process.stderr.write('bench: raw JSON.parse of the file again (twice)…\n');
    const parseAfter = [await rawParseRate(file), await rawParseRate(file)];
    const samples = [...parseBefore, ...parseAfter];
    const parseSeconds = samples.reduce((t, p) => t + p.seconds, 0);
    const parse = { seconds: parseSeconds, perSecond: samples.reduce((n, p) => n + p.lines, 0) / parseSeconds };
    process.stderr.write('bench: crm import of the same file again (all duplicates)…\n');
    const again = await runImport(join(work, 'data'), file);
    process.stderr.write('bench: crm verify of the imported store…\n');
    const verify = await runVerify(join(work, 'data'));
    const perSecond = first.accepted / first.seconds;
    const report = {
      at: new Date().toISOString(),
      // 1, 5 and 15-minute load averages when the report was written: other work on the host shows here.
      machine: { node: process.version, cpus: cpus().length, loadAverage: loadavg().map((l) => Math.round(l * 100) / 100) },
      file: { events, bytes: statSync(file).size },
      rawParse: { linesPerSecond: Math.round(parse.perSecond), seconds: round(parse.seconds), samples: samples.map((p) => Math.round(p.perSecond)) },
      import: {
        eventsPerSecond: Math.round(perSecond),
        seconds: round(first.seconds),
        accepted: first.accepted,
        peakRssMiB: Math.round(first.peakRssBytes / 2 ** 20),
        ratioToRawParse: round(perSecond / parse.perSecond),
        // The main thread (validate, decide, serialise) and the append thread (SQLite) are the two busiest.
        threadCpuSeconds: first.threadCpuSeconds.map(round),
        mainThreadGc: first.mainGc,
      },
      reimport: { eventsPerSecond: Math.round((again.duplicates + again.accepted) / again.seconds), accepted: again.accepted, duplicates: again.duplicates, peakRssMiB: Math.round(again.peakRssBytes / 2 ** 20) },
      targets: { eventsPerSecond: 50_000, ratioToRawParse: 0.15, peakRssMiB: 1024 },
      verify: { events: verify.events, streams: verify.streams, eventsPerSecond: verify.eventsPerSecond, seconds: round(verify.seconds), clean: verify.clean, peakRssMiB: Math.round(verify.peakRssBytes / 2 ** 20) },
      readSide: process.env.BENCH_READ_SIDE === '0' ? null : await runReadSideBench(),
    };
    const out = resolve('bench-report.json');
    writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    process.stderr.write(`bench: report written to ${out}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
