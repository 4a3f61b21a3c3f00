import { readdirSync, readFileSync } from 'fs';
import { openEmbeddedWriteSide, readNdjsonFile } from '@crm/ingest';

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
  const w = openEmbeddedWriteSide(dataDir);
  const t0 = process.hrtime.bigint();
  const r = await w.pipeline.ingest(readNdjsonFile(file), { source: `import:${file}`, batchSize: Number(process.env.BENCH_BATCH ?? 2_000) /* the CLI default */ });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const threads = threadCpuSeconds(); // before close(): the append thread's CPU is gone once it ends
  await w.close();
  const report = { accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected, seconds, peakRssBytes: process.resourceUsage().maxRSS * 1024, threadCpuSeconds: threads };
  if (process.send) process.send(report);
  else console.log(JSON.stringify(report));
}

void main();
