import { requireBuiltCli } from '../support/cli';
import { execFileSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { OracleResult, OracleStep, runOracle, Stage, Tier } from '../support/oracle';
import { generateScenario, Scenario, SWEEP_AS_OF } from '../support/scenario';

/**
 * Issue 2 acceptance: a held-out scenario (a few hundred customers, ~50k events over 2026-01..2026-08 with
 * duplicates and malformed lines) imported month by month through the `crm` CLI, each month closed, then a
 * sweep. Every customer's tier after each close, and tier and stage at the end, must be what an independent
 * reference of DESIGN §4 (test/support/oracle.ts) says, and every import must report exact counts.
 */

jest.setTimeout(300_000);

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/apps/cli/src/main.js');

interface ImportReport {
  accepted: number;
  duplicates: number;
  rejected: number;
  rejections: { line: number; eventId?: string; errors: string[] }[];
}
interface ExportedCustomer {
  customerId: string;
  tier: Tier;
  stage: Stage;
  eventCount: number;
}

describe('held-out scenario through the crm CLI (issue 2)', () => {
  let dataDir: string;
  let fileDir: string;
  let scenario: Scenario;
  let oracle: OracleResult;
  const paths: string[] = [];
  const firstRejected: number[] = [];

  const crm = (...args: string[]): string =>
    execFileSync('node', [CLI, ...args], { cwd: ROOT, env: { ...process.env, CRM_DATA_DIR: dataDir }, encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });

  const exportCustomers = (): { text: string; byId: Map<string, ExportedCustomer> } => {
    const text = crm('export', 'customers');
    const byId = new Map<string, ExportedCustomer>();
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const doc = JSON.parse(line) as ExportedCustomer;
      byId.set(doc.customerId, doc);
    }
    return { text, byId };
  };

  /** Differences between what the oracle expects and what the export says, one line each (with the customer's behaviour). */
  const compare = (when: string, expected: Map<string, { tier: Tier; stage?: Stage }>, got: Map<string, ExportedCustomer>): string[] => {
    const out: string[] = [];
    for (const [id, want] of expected) {
      const doc = got.get(id);
      const profile = scenario.profileOf[id] ?? '?';
      if (!doc) out.push(`${when} ${id} (${profile}): missing from export customers`);
      else {
        if (doc.tier !== want.tier) out.push(`${when} ${id} (${profile}): tier ${doc.tier}, expected ${want.tier}`);
        if (want.stage !== undefined && doc.stage !== want.stage) out.push(`${when} ${id} (${profile}): stage ${doc.stage}, expected ${want.stage}`);
      }
    }
    for (const id of got.keys()) if (!expected.has(id)) out.push(`${when} ${id} (${scenario.profileOf[id] ?? 'ghost'}): in export customers but never accepted`);
    return out;
  };

  beforeAll(() => {
    requireBuiltCli(); // npm test builds before jest; building here would race the other suites that run the CLI
    dataDir = mkdtempSync(join(tmpdir(), 'crm-heldout-data-'));
    fileDir = mkdtempSync(join(tmpdir(), 'crm-heldout-files-'));
    scenario = generateScenario({ seed: 20260901 });
    for (const f of scenario.files) {
      const p = join(fileDir, f.fileName);
      writeFileSync(p, f.content);
      paths.push(p);
    }
    const steps: OracleStep[] = [];
    for (const f of scenario.files) steps.push({ kind: 'ingest', events: f.acceptedEvents }, { kind: 'close', month: f.month });
    steps.push({ kind: 'sweep', asOf: SWEEP_AS_OF });
    oracle = runOracle(steps);
    const { acceptedByType: _a, rejectedByKind: _r, profiles: _p, ...stats } = scenario.stats;
    process.stderr.write(`held-out scenario: ${JSON.stringify(stats)}\n`);
  });

  afterAll(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (fileDir) rmSync(fileDir, { recursive: true, force: true });
  });

  it('imports each month with exact counts and named reasons, and every close leaves every customer at the prescribed tier', () => {
    const countProblems: string[] = [];
    const reasonProblems: string[] = [];
    const closeProblems: string[] = [];
    const tierProblems: string[] = [];
    scenario.files.forEach((f, i) => {
      const r = JSON.parse(crm('import', paths[i], '--json')) as ImportReport;
      firstRejected.push(r.rejected);
      const want = { accepted: f.accepted, duplicates: f.duplicates, rejected: f.rejected };
      const got = { accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected };
      if (JSON.stringify(got) !== JSON.stringify(want)) countProblems.push(`${f.fileName}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);

      // Every rejection names the field (or JSON / object) at fault, on the right line.
      const byLine = new Map(r.rejections.map((x) => [x.line, x]));
      if (r.rejections.length !== r.rejected) reasonProblems.push(`${f.fileName}: ${r.rejections.length} rejections listed for ${r.rejected} rejected`);
      for (const x of r.rejections) {
        if (!Array.isArray(x.errors) || x.errors.length === 0 || x.errors.some((e) => typeof e !== 'string' || e.trim() === ''))
          reasonProblems.push(`${f.fileName} line ${x.line}: errors ${JSON.stringify(x.errors)}`);
      }
      for (const exp of f.rejections) {
        const x = byLine.get(exp.line);
        if (!x) reasonProblems.push(`${f.fileName} line ${exp.line} (${exp.kind}): not rejected`);
        else if (!x.errors.join(' ').toLowerCase().includes(exp.mentions.toLowerCase()))
          reasonProblems.push(`${f.fileName} line ${exp.line} (${exp.kind}): reasons ${JSON.stringify(x.errors)} do not name ${exp.mentions}`);
        else if (exp.eventId !== undefined && x.eventId !== exp.eventId) reasonProblems.push(`${f.fileName} line ${exp.line}: eventId ${x.eventId}, expected ${exp.eventId}`);
      }

      const close = oracle.closes[i];
      const c = JSON.parse(crm('close-period', f.month, '--json')) as { month: string; customers: number; tierChanges: number };
      if (c.month !== f.month || c.customers !== close.tiers.size || c.tierChanges !== close.changes)
        closeProblems.push(`close ${f.month}: ${JSON.stringify({ month: c.month, customers: c.customers, tierChanges: c.tierChanges })}, expected ${JSON.stringify({ month: f.month, customers: close.tiers.size, tierChanges: close.changes })}`);

      const expected = new Map([...close.tiers].map(([id, tier]) => [id, { tier }]));
      tierProblems.push(...compare(`after close ${f.month}:`, expected, exportCustomers().byId));
    });
    expect(countProblems).toEqual([]);
    expect(reasonProblems).toEqual([]);
    expect(tierProblems).toEqual([]);
    expect(closeProblems).toEqual([]);
  });

  it('after the sweep, every customer has the prescribed tier and lifecycle stage', () => {
    const sweep = JSON.parse(crm('sweep', '--as-of', SWEEP_AS_OF, '--json')) as { customers: number };
    expect(sweep.customers).toBe(oracle.final.size);
    const { byId } = exportCustomers();
    expect(compare('final:', oracle.final, byId)).toEqual([]);
    expect(byId.size).toBe(scenario.stats.customers);
    for (const ghost of scenario.ghosts) expect(byId.has(ghost)).toBe(false);
  });

  it('importing all eight files again appends nothing', () => {
    const before = exportCustomers();
    const events = (m: Map<string, ExportedCustomer>) => [...m.values()].reduce((s, d) => s + d.eventCount, 0);
    const problems: string[] = [];
    scenario.files.forEach((f, i) => {
      const r = JSON.parse(crm('import', paths[i], '--json')) as ImportReport;
      const want = { accepted: 0, duplicates: f.validLines, rejected: firstRejected[i] ?? f.rejected };
      const got = { accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected };
      if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${f.fileName} again: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    });
    expect(problems).toEqual([]);
    const after = exportCustomers();
    expect(events(after.byId)).toBe(events(before.byId));
    expect(after.text).toBe(before.text); // byte for byte: no customer gained an event, none appeared
  });
});
