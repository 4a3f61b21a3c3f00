import { readFileSync } from 'fs';
import { Command, InvalidArgumentError } from 'commander';
import { explain, verifyHistory, verifyProjections, whatIfPatch, type ProjectionVerification } from '@crm/audit';
import { loadMongoConfig } from '@crm/config';
import { PolicyError } from '@crm/domain';
import { customerStream, streamEvents } from '@crm/event-store';
import type { WriteSide } from '@crm/ingest';
import { ReadSideReader } from '@crm/projections';
import { MongoReadModelStore } from '@crm/read-model';
import { info, printJson, progress } from './output';

type WithWriteSide = <T>(fn: (w: WriteSide) => Promise<T>) => Promise<T>;

function readPolicyFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw new InvalidArgumentError(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Runs `fn`, turning a PolicyError into a message that lists every wrong field. */
async function policyErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PolicyError) throw new InvalidArgumentError(`the policy file is not valid:\n  ${err.errors.join('\n  ')}`);
    throw err;
  }
}

/** Verify (b) against MongoDB when MONGO_URL is set; the embedded read models live only inside the API process. */
async function verifyMongoProjections(w: WriteSide): Promise<ProjectionVerification | string> {
  const mongo = loadMongoConfig(process.env, false);
  if (mongo === undefined) return 'skipped: the embedded read models live in the API process (use POST /v1/audit/verify there, or set MONGO_URL)';
  const readModel = await MongoReadModelStore.connect(mongo.url, mongo.db);
  try {
    const live = await ReadSideReader.open(w.store, readModel);
    try {
      return await verifyProjections(w.store, live);
    } finally {
      await live.close();
    }
  } finally {
    await readModel.close();
  }
}

/** `crm verify`, `crm explain`, `crm policy list|adopt|what-if`. */
export function registerAuditCommands(program: Command, withWriteSide: WithWriteSide): void {
  program
    .command('verify')
    .description('re-derive every customer stream from its facts under the policies of its time and check every hash chain (and, with MONGO_URL, the projections against a fresh rebuild); exits 1 on any difference')
    .option('--json', 'print the report as JSON on stdout')
    .action(async (opts: { json?: boolean }) => {
      const report = await withWriteSide(async (w) => {
        const bar = progress(Number(await w.store.headPosition()), 'events');
        const history = await verifyHistory(w.store, w.policies, (events) => bar.update(events));
        bar.stop();
        const projections = await verifyMongoProjections(w);
        const clean = history.chainBreaks === 0 && history.derivedDifferences === 0 && (typeof projections === 'string' || projections.differences === 0);
        return { clean, history, projections };
      });
      if (opts.json) printJson(report);
      else {
        const h = report.history;
        console.log(`verified ${h.events} events in ${h.streams} streams (${h.customers} customers) in ${h.ms} ms (${h.eventsPerSecond} events/s)`);
        console.log(`hash chains: ${h.chainBreaks === 0 ? 'intact' : `${h.chainBreaks} breaks`}`);
        for (const b of h.chain) console.log(`  ${b.kind} ${b.streamId} #${b.revision} event ${b.eventId} (position ${b.position}): expected ${b.expected}, found ${b.found}`);
        console.log(`derived events: ${h.derivedDifferences === 0 ? 'all re-derived identically' : `${h.derivedDifferences} differences`}`);
        for (const d of h.derived) console.log(`  customer ${d.customerId} ${d.type} ${d.eventId}${d.revision === null ? '' : ` #${d.revision}`} ${d.field}: expected ${JSON.stringify(d.expected)}, found ${JSON.stringify(d.found)}`);
        const p = report.projections;
        if (typeof p === 'string') console.log(`projections: ${p}`);
        else {
          console.log(`projections: ${p.documents} documents at position ${p.position}, ${p.differences === 0 ? 'identical to a fresh rebuild' : `${p.differences} differences`}`);
          for (const d of p.items) console.log(`  ${d.view} ${d.documentId} ${d.field}: expected ${JSON.stringify(d.expected)}, found ${JSON.stringify(d.found)}`);
        }
      }
      if (!report.clean) process.exitCode = 1;
    });

  program
    .command('explain <id>')
    .description("why a customer is where it is: every tier, lifecycle, risk and SLA decision with the inputs and policy that made it")
    .option('--all', 'also every month close and fact')
    .option('--json', 'print JSON on stdout')
    .action(async (id: string, opts: { all?: boolean; json?: boolean }) => {
      const lines = await withWriteSide(async (w) => {
        const events = await streamEvents(w.store, customerStream(id));
        return events.length === 0 ? null : explain(events, opts.all === true);
      });
      if (lines === null) {
        info(`customer ${id} not found`);
        process.exitCode = 2;
      } else if (opts.json) printJson({ customerId: id, explanations: lines });
      else for (const l of lines) console.log(l.text);
    });

  const policy = program.command('policy').description('versioned policies: list them, adopt a new version, or see what a proposal would change');
  policy
    .command('list')
    .description('the policy versions in force and when each was adopted')
    .option('--json', 'print JSON on stdout')
    .action(async (opts: { json?: boolean }) => {
      const out = await withWriteSide((w) => w.policies.versions());
      if (opts.json) printJson(out);
      else for (const p of out) console.log(`v${p.version} from ${p.effectiveFrom}: floors ${JSON.stringify(p.tierFloorsFen)} (${p.adoptedAt === null ? 'built in' : `adopted ${p.adoptedAt}`})`);
    });
  policy
    .command('adopt <file>')
    .description('record a new policy version (JSON: the settings that change, plus effectiveFrom YYYY-MM after the last closed month)')
    .option('--json', 'print JSON on stdout')
    .action(async (file: string, opts: { json?: boolean }) => {
      const patch = readPolicyFile(file);
      const adopted = await withWriteSide((w) => policyErrors(async () => w.policies.adoptPatch(patch, await w.periods.closedThrough())));
      if (opts.json) printJson({ ...adopted, position: String(adopted.position) });
      else console.log(`adopted policy v${adopted.policy.version}, in force from ${adopted.policy.effectiveFrom}`);
    });
  policy
    .command('what-if <file>')
    .description('re-derive history under a proposed policy (JSON: the settings that change; effectiveFrom defaults to the start of history) and report who would be elsewhere; records nothing')
    .option('--json', 'print JSON on stdout')
    .action(async (file: string, opts: { json?: boolean }) => {
      const patch = readPolicyFile(file) as Record<string, unknown>;
      const report = await withWriteSide((w) => policyErrors(() => whatIfPatch(w.store, w.policies, patch)));
      if (opts.json) printJson(report);
      else {
        console.log(`under the proposed policy (from ${report.policy.effectiveFrom}) ${report.affected} of ${report.customers} customers would be elsewhere`);
        for (const [move, n] of Object.entries(report.moves)) console.log(`  now ${move}: ${n}`);
        for (const c of report.changes) {
          const months = c.months.map((m) => `${m.month} ${m.current} → ${m.proposed}`).join(', ');
          const stage = c.stage.current !== c.stage.proposed ? `; stage ${c.stage.current} → ${c.stage.proposed}` : '';
          console.log(`  ${c.customerId}: ${months || 'same tiers'}${stage}`);
        }
      }
    });
}
