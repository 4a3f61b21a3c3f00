import type { Command } from 'commander';
import type { WriteSide } from '@crm/ingest';
import { ANALYTICS_CSV, complaints, funnel, managerLoad, pyramid, ReadSide } from '@crm/projections';
import { MemoryReadModelStore } from '@crm/read-model';
import { info, printJson, progress } from './output';

export const ANALYTICS_EXPORTS = ['pyramid', 'funnel', 'complaints', 'manager-load'] as const;
type AnalyticsExport = (typeof ANALYTICS_EXPORTS)[number];

/** A progress bar per phase of the read side (build, catch-up, rebuild), each up to the store's head. */
function phaseBars(head: number): { onProgress: (phase: string, position: bigint) => void; stop(): void } {
  let current: { phase: string; bar: ReturnType<typeof progress> } | undefined;
  return {
    onProgress(phase, position) {
      if (current?.phase !== phase) {
        current?.bar.stop();
        current = { phase, bar: progress(head, `position (${phase})`) };
      }
      current.bar.update(Number(position));
    },
    stop: () => current?.bar.stop(),
  };
}

/** Builds every view in memory from the store (the embedded read side, as `npm start` does). */
async function openReadSide(w: WriteSide, phases?: ReturnType<typeof phaseBars>): Promise<ReadSide> {
  const bars = phases ?? phaseBars(Number(await w.store.headPosition()));
  const rs = await ReadSide.open(w.store, new MemoryReadModelStore(), { live: false, onProgress: bars.onProgress });
  if (phases === undefined) bars.stop();
  return rs;
}

/** `crm export <analytics view> [--format csv] [--from M --to M]`. */
export async function exportAnalytics(w: WriteSide, what: AnalyticsExport, opts: { format: string; from?: string; to?: string }): Promise<void> {
  const rs = await openReadSide(w);
  try {
    const range = { from: opts.from, to: opts.to };
    const rows =
      what === 'pyramid' ? await pyramid(rs, range) : what === 'funnel' ? await funnel(rs, range) : what === 'complaints' ? await complaints(rs, range) : await managerLoad(rs);
    if (opts.format === 'csv') {
      const csv = what === 'pyramid' ? ANALYTICS_CSV.pyramid : what === 'funnel' ? ANALYTICS_CSV.funnel : what === 'complaints' ? ANALYTICS_CSV.complaints : ANALYTICS_CSV.managerLoad;
      process.stdout.write((csv as (r: unknown) => string)(rows));
    } else for (const r of rows) printJson(r);
  } finally {
    await rs.close();
  }
}

export function isAnalyticsExport(what: string): what is AnalyticsExport {
  return (ANALYTICS_EXPORTS as readonly string[]).includes(what);
}

/** `crm rebuild`: replays the whole store into every projection (from scratch) and reports the speed. */
export function registerRebuildCommand(program: Command, withWriteSide: <T>(fn: (w: WriteSide) => Promise<T>) => Promise<T>): void {
  program
    .command('rebuild')
    .description('rebuild every projection from position 0 (the embedded read model lives in memory: this checks the replay and reports its speed)')
    .option('--json', 'print the report as JSON on stdout')
    .action(async (opts: { json?: boolean }) => {
      await withWriteSide(async (w) => {
        const started = Date.now();
        const bars = phaseBars(Number(await w.store.headPosition()));
        const rs = await openReadSide(w, bars);
        const built = Date.now() - started;
        const report = await rs.rebuild();
        bars.stop();
        await rs.close();
        const out = { ...report, firstBuildMs: built, views: rs.entries().map((e) => ({ view: e._id, collection: e.collection, version: e.version })) };
        if (opts.json) printJson(out);
        else info(`rebuilt ${out.views.length} views over ${report.events} events to position ${report.position} in ${report.ms} ms (${report.eventsPerSecond} events/s)`);
      });
    });
}
