import { readdirSync, readFileSync } from 'fs';
import { constants, PerformanceObserver } from 'perf_hooks';
import { openEmbeddedWriteSide, preferSerialScavenges, readNdjsonFile } from '@crm/ingest';

/**
 * CPU seconds (user + system) of each of this process's threads that used at least 0.05 s, busiest first (Linux
 * /proc; empty elsewhere). This host's speed varies by ±30% within an hour: the split between the main thread and
 * the append thread says more than the wall time alone.
 */
function threadCpuSeconds(): number[] {
  try {
    const ticksPerSecond = 100; // USER_HZ
    return readdirSync('/proc/self/task')
      .map((t) => {
        const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond; // utime, stime
      })
      .filter((s) => s >= 0.05)
      .sort((a, b) => b - a);
  } catch {
    return [];
  }
}

/** Runs `crm import` in its own process for the bench and reports time and peak RSS to the parent. */
async function main(): Promise<void> {
  const [dataDir, file] = process.argv.slice(2);
  preferSerialScavenges(); // as `crm import` does
  const w = openEmbeddedWriteSide(dataDir);
  // The main thread's collections: young-generation pauses grow with what outlives them (batches in flight).
  const gc = { scavenges: 0, scavengeMs: 0, markCompacts: 0, markCompactMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        gc.scavenges++;
        gc.scavengeMs += e.duration;
      } else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        gc.markCompacts++;
        gc.markCompactMs += e.duration;
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const t0 = process.hrtime.bigint();
  const r = await w.pipeline.ingest(readNdjsonFile(file), { source: `import:${file}`, batchSize: Number(process.env.BENCH_BATCH ?? 2_000) /* the CLI default */ });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const threads = threadCpuSeconds(); // before close(): the append thread's CPU is gone once it ends
  observer.disconnect();
  await w.close();
  const mainGc = { ...gc, scavengeMs: Math.round(gc.scavengeMs), markCompactMs: Math.round(gc.markCompactMs) };
  const report = { accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected, seconds, peakRssBytes: process.resourceUsage().maxRSS * 1024, threadCpuSeconds: threads, mainGc };
  if (process.send) process.send(report);
  else console.log(JSON.stringify(report));
}

void main();
