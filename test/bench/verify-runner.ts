import { verifyHistory } from '@crm/audit';
import { openEmbeddedWriteSide } from '@crm/ingest';

/** Runs `crm verify` (re-derivation and hash chains) in its own process for the bench; reports speed and peak RSS. */
async function main(): Promise<void> {
  const [dataDir] = process.argv.slice(2);
  const w = openEmbeddedWriteSide(dataDir);
  const r = await verifyHistory(w.store, w.policies);
  await w.close();
  const report = { events: r.events, streams: r.streams, seconds: r.ms / 1000, eventsPerSecond: r.eventsPerSecond, clean: r.chainBreaks === 0 && r.derivedDifferences === 0, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
  if (process.send) process.send(report);
  else console.log(JSON.stringify(report));
}

void main();
