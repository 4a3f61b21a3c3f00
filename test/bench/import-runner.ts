import { openEmbeddedWriteSide, readNdjsonFile } from '@crm/ingest';

/** Runs `crm import` in its own process for the bench and reports time and peak RSS to the parent. */
async function main(): Promise<void> {
  const [dataDir, file] = process.argv.slice(2);
  const w = openEmbeddedWriteSide(dataDir);
  const t0 = process.hrtime.bigint();
  const r = await w.pipeline.ingest(readNdjsonFile(file), { source: `import:${file}`, batchSize: Number(process.env.BENCH_BATCH ?? 2_000) /* the CLI default */ });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await w.close();
  const report = { accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected, seconds, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
  if (process.send) process.send(report);
  else console.log(JSON.stringify(report));
}

void main();
