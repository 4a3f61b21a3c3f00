#!/usr/bin/env node
import 'reflect-metadata';
import { statSync } from 'fs';
import { Command, InvalidArgumentError } from 'commander';
import { isInstant, MONTH } from '@crm/contracts';
import { dataDir } from '@crm/config';
import { openEmbeddedWriteSide, preferSerialScavenges, readNdjsonFile, sweepAll, WriteSide } from '@crm/ingest';
import { customerViews, customerView, CUSTOMER_CSV_COLUMNS, toCsvRow } from '@crm/projections';
import { info, printJson, progress } from './output';
import { ANALYTICS_EXPORTS, exportAnalytics, isAnalyticsExport, registerRebuildCommand } from './read-side.commands';
import { registerProduceCommand } from './produce.command';
import { registerAuditCommands } from './audit.commands';

const month = (v: string): string => {
  if (!MONTH.test(v)) throw new InvalidArgumentError('must be a month YYYY-MM');
  return v;
};
const instant = (v: string): string => {
  if (!isInstant(v)) throw new InvalidArgumentError('must be a real ISO-8601 instant with an offset, e.g. 2026-09-01T00:00:00+08:00');
  return v;
};

async function withWriteSide<T>(fn: (w: WriteSide) => Promise<T>): Promise<T> {
  const w = openEmbeddedWriteSide(dataDir());
  try {
    return await fn(w);
  } finally {
    await w.close();
  }
}

const program = new Command('crm').description('courier-crm command line (embedded store under CRM_DATA_DIR, default ./data)').showHelpAfterError();

program
  .command('import <file>')
  .description('import upstream events from an NDJSON file (one JSON object per line)')
  .option('--json', 'print the result as JSON on stdout')
  .option('--batch-size <n>', 'lines per append batch', (v) => parseInt(v, 10), 2_000)
  .action(async (file: string, opts: { json?: boolean; batchSize: number }) => {
    preferSerialScavenges();
    const size = statSync(file).size;
    const bar = progress(size, 'bytes');
    const result = await withWriteSide((w) => w.pipeline.ingest(readNdjsonFile(file, (b) => bar.update(b)), { source: `import:${file}`, batchSize: opts.batchSize }));
    bar.stop();
    const { position: _p, ...report } = result;
    if (opts.json) printJson(report);
    else {
      console.log(`accepted ${report.accepted}, duplicates ${report.duplicates}, rejected ${report.rejected}`);
      for (const r of report.rejections.slice(0, 20)) console.log(`  line ${r.line}${r.eventId ? ` (${r.eventId})` : ''}: ${r.errors.join('; ')}`);
      if (report.rejections.length > 20) console.log(`  … ${report.rejections.length - 20} more (crm quarantine)`);
    }
  });

program
  .command('close-period <month>')
  .description('close a month (YYYY-MM) for every customer: tier decisions of DESIGN §4.1')
  .option('--json', 'print the result as JSON on stdout')
  .action(async (m: string, opts: { json?: boolean }) => {
    const r = await withWriteSide((w) => w.periods.close(month(m), w.writer));
    if (opts.json) printJson(r);
    else console.log(`closed ${r.month} for ${r.customers} customers; ${r.tierChanges} tier changes`);
  });

program
  .command('sweep')
  .description('record the inactivity transitions and SLA breaches due at an instant')
  .requiredOption('--as-of <instant>', 'ISO-8601 instant with offset', instant)
  .option('--json', 'print the result as JSON on stdout')
  .action(async (opts: { asOf: string; json?: boolean }) => {
    const r = await withWriteSide((w) => sweepAll(w.store, w.writer, opts.asOf));
    if (opts.json) printJson(r);
    else console.log(`swept ${r.customers} customers as of ${r.asOf}; ${r.changed} changed`);
  });

program
  .command('customer <id>')
  .description('the Customer 360 document')
  .option('--as-of <instant>', 'as the customer was at this instant: what had happened by then (by occurredAt)', instant)
  .option('--known-at <instant>', 'as the system knew the customer at this instant: what had been recorded by then (by recordedAt)', instant)
  .option('--json', 'print JSON on stdout')
  .action(async (id: string, opts: { asOf?: string; knownAt?: string; json?: boolean }) => {
    const view = await withWriteSide(async (w) => customerView(w.store, id, { asOf: opts.asOf, knownAt: opts.knownAt }, await w.policies.book()));
    if (!view) {
      info(`customer ${id} not found`);
      process.exitCode = 2;
      return;
    }
    if (opts.json) printJson(view);
    else console.log(JSON.stringify(view, null, 2));
  });

program
  .command('export <what>')
  .description(`export every Customer 360 document (\`export customers\`, NDJSON) or an analytics view (${ANALYTICS_EXPORTS.join(', ')}; one JSON object per line); --format csv for a spreadsheet`)
  .option('--format <format>', 'ndjson or csv', 'ndjson')
  .option('--from <month>', 'analytics: first month YYYY-MM', month)
  .option('--to <month>', 'analytics: last month YYYY-MM', month)
  .action(async (what: string, opts: { format: string; from?: string; to?: string }) => {
    if (opts.format !== 'ndjson' && opts.format !== 'csv') throw new InvalidArgumentError('--format must be ndjson or csv');
    if (isAnalyticsExport(what)) return withWriteSide((w) => exportAnalytics(w, what, opts));
    if (what !== 'customers') throw new InvalidArgumentError(`can export customers, ${ANALYTICS_EXPORTS.join(', ')}; not "${what}"`);
    await withWriteSide(async (w) => {
      const out: string[] = [];
      const flush = () => {
        if (out.length) process.stdout.write(out.join(''));
        out.length = 0;
      };
      if (opts.format === 'csv') out.push(CUSTOMER_CSV_COLUMNS.join(',') + '\n');
      for await (const v of customerViews(w.store)) {
        out.push(opts.format === 'csv' ? toCsvRow(v) + '\n' : JSON.stringify(v) + '\n');
        if (out.length >= 1000) flush();
      }
      flush();
    });
  });

program
  .command('history <id>')
  .description("a customer's full recorded stream with metadata")
  .option('--json', 'print NDJSON on stdout')
  .action(async (id: string, opts: { json?: boolean }) => {
    const found = await withWriteSide(async (w) => {
      let n = 0;
      for await (const e of w.store.readStream(`customer-${id}`)) {
        n++;
        const m = e.metadata;
        if (opts.json) printJson(e);
        else
          console.log(
            `#${e.revision} @${e.position} ${e.type} occurred ${m.occurredAt} recorded ${m.recordedAt}${m.policyVersion === undefined ? '' : ` policy v${m.policyVersion}`}` +
              ` id ${e.id} cause ${m.causationId}${m.upstreamEventId === undefined ? '' : ` upstream ${m.upstreamEventId}`}\n    ${JSON.stringify(e.data)}`,
          );
      }
      return n > 0;
    });
    if (!found) {
      info(`customer ${id} not found`);
      process.exitCode = 2;
    }
  });

program
  .command('quarantine')
  .description('list rejected input kept with its reasons')
  .option('--limit <n>', 'how many', (v) => parseInt(v, 10), 100)
  .option('--offset <n>', 'skip', (v) => parseInt(v, 10), 0)
  .option('--json', 'print JSON on stdout')
  .action(async (opts: { limit: number; offset: number; json?: boolean }) => {
    await withWriteSide(async (w) => {
      const items = w.quarantine.list({ limit: opts.limit, offset: opts.offset });
      if (opts.json) printJson({ total: w.quarantine.count(), items });
      else for (const q of items) console.log(`${q.receivedAt} ${q.source} line ${q.line}: ${q.errors.join('; ')}\n  ${q.raw.slice(0, 200)}`);
    });
  });

program
  .command('demo')
  .description('generate a realistic synthetic history (seeded) and load it')
  .option('--seed <n>', 'random seed', (v) => parseInt(v, 10), 42)
  .option('--customers <n>', 'how many customers', (v) => parseInt(v, 10), 2000)
  .option('--json', 'print the result as JSON on stdout')
  .action(async (opts: { seed: number; customers: number; json?: boolean }) => {
    const { loadDemo } = await import('@crm/demo');
    const r = await withWriteSide((w) => loadDemo(w, { seed: opts.seed, customers: opts.customers }, info));
    if (opts.json) printJson(r);
    else console.log(`demo loaded: ${r.accepted} events accepted, ${r.closedMonths.length} months closed, swept as of ${r.sweptAsOf}`);
  });

registerProduceCommand(program);
registerRebuildCommand(program, withWriteSide);
registerAuditCommands(program, withWriteSide);

program.parseAsync(process.argv).catch((err: unknown) => {
  info(`crm: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
