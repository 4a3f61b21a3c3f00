import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import Database from 'better-sqlite3';
import { requireBuiltCli } from '../support/cli';
import { NAMED_EVENTS } from '../support/sqlite-behind-the-store';

jest.setTimeout(300_000);

/**
 * Issue 5 through the `crm` CLI as an auditor runs it: verify (clean, then exit 1 naming each difference after the
 * file was changed behind the system's back), explain, history, customer --known-at, policy list/what-if/adopt.
 */
describe('audit through the crm CLI', () => {
  const ROOT = resolve(__dirname, '../..');
  let dir: string;
  let cli: string;

  const crm = (...args: string[]) => {
    const r = spawnSync('node', [cli, ...args], { cwd: ROOT, env: { ...process.env, CRM_DATA_DIR: dir, MONGO_URL: '' }, encoding: 'utf8', maxBuffer: 1 << 28 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const json = (...args: string[]) => {
    const r = crm(...args, '--json');
    if (r.status !== 0) throw new Error(`crm ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  let customers: { customerId: string; tier: string }[];

  beforeAll(() => {
    cli = requireBuiltCli();
    dir = mkdtempSync(join(tmpdir(), 'crm-audit-cli-'));
    json('demo', '--customers', '150', '--seed', '7');
    customers = crm('export', 'customers')
      .stdout.split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('verify is clean on the untouched demo and exits 0', () => {
    const r = crm('verify', '--json');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.clean).toBe(true);
    expect(report.history).toMatchObject({ customers: customers.length, chainBreaks: 0, derivedDifferences: 0 });
    expect(report.history.events).toBeGreaterThan(customers.length * 5);
    expect(report.projections).toMatch(/^skipped: /);
  });

  it('explain prints the why-history; history lists the stream with its metadata', () => {
    const c = customers.find((x) => x.tier === 'VIP' || x.tier === 'MIDDLE') as { customerId: string; tier: string };
    const text = crm('explain', c.customerId);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`upgraded [A-Z]+ → ${c.tier}: contribution [\\d,]+\\.\\d{2} 元 ≥ [\\d,]+\\.\\d{2} 元 \\(policy v1, upgrade rule\\)`));
    const history = crm('history', c.customerId);
    expect(history.stdout).toMatch(/^#0 @\d+ \w+ occurred \S+ recorded \S+/);
    expect(crm('explain', 'CNOSUCH').status).toBe(2);
  });

  it('customer --known-at: nothing known before the first import, everything far ahead; a bad instant is named', () => {
    const id = customers[0].customerId;
    expect(crm('customer', id, '--known-at', '2000-01-01T00:00:00Z', '--json').status).toBe(2);
    expect(json('customer', id, '--known-at', '2999-01-01T00:00:00Z')).toEqual(json('customer', id));
    expect(crm('customer', id, '--known-at', 'soon').stderr).toContain('must be a real ISO-8601 instant');
  });

  it('policy what-if reports who a raised VIP floor moves, records nothing; a wrong field is named and exits 1', () => {
    const file = join(dir, 'raise-vip.json');
    writeFileSync(file, JSON.stringify({ tierFloorsFen: { VIP: 5_000_000, PROJECT: 10_000_000 } }));
    const r = json('policy', 'what-if', file);
    expect(r.customers).toBe(customers.length);
    const vips = customers.filter((c) => c.tier === 'VIP').map((c) => c.customerId);
    // every customer that is VIP now and would not be is reported; nobody else moves
    const moved = r.changes.filter((c: { tier: { current: string; proposed: string } }) => c.tier.current !== c.tier.proposed);
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((c: { customerId: string; tier: { current: string } }) => c.tier.current === 'VIP' && vips.includes(c.customerId))).toBe(true);
    expect(json('policy', 'list').map((p: { version: number }) => p.version)).toEqual([1]);

    writeFileSync(file, JSON.stringify({ tierFloorsFen: { VIP: 'lots' } }));
    const bad = crm('policy', 'what-if', file);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('tierFloorsFen.VIP must be an integer ≥ 0');
  });

  it('verify exits 1 naming a changed amount, a deleted event and a forged derived event', () => {
    const db = new Database(join(dir, 'events.sqlite'));
    const ship = db.prepare(`${NAMED_EVENTS} WHERE t.name = 'ShipmentPickedUp' ORDER BY e.position LIMIT 1 OFFSET 10`).get() as { stream_id: string; revision: number; event_id: string };
    db.prepare("UPDATE events SET data = json_set(data, '$.freightFen', 1) WHERE event_id = ?").run(ship.event_id);
    const gone = db.prepare(`${NAMED_EVENTS} WHERE t.name = 'LifecycleStageChanged' AND s.stream_id <> ? ORDER BY e.position LIMIT 1 OFFSET 20`).get(ship.stream_id) as { stream_id: string; revision: number; event_id: string };
    db.prepare('DELETE FROM events WHERE event_id = ?').run(gone.event_id);
    // a forged TierChanged copied over the last event of a third stream, its metadata (hash included) kept
    const victim = db.prepare(`${NAMED_EVENTS} WHERE t.name = 'MonthClosed' AND s.stream_id NOT IN (?, ?) ORDER BY e.position DESC LIMIT 1`).get(ship.stream_id, gone.stream_id) as { stream_id: string; revision: number; event_id: string };
    db.prepare(
      "UPDATE events SET type_key = (SELECT id FROM event_types WHERE name = 'TierChanged'), data = json_set(data, '$.tier', 'PROJECT') WHERE event_id = ?",
    ).run(victim.event_id);
    db.close();

    const r = crm('verify');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`ALTERED ${ship.stream_id} #${ship.revision} event ${ship.event_id}`);
    expect(r.stdout).toContain(`REVISION_GAP ${gone.stream_id} #${gone.revision + 1}`);
    expect(r.stdout).toContain(`customer ${gone.stream_id.slice('customer-'.length)} LifecycleStageChanged ${gone.event_id} event: expected "LifecycleStageChanged", found "(missing)"`);
    expect(r.stdout).toContain(`ALTERED ${victim.stream_id} #${victim.revision} event ${victim.event_id}`);
    expect(r.stdout).toContain(`customer ${victim.stream_id.slice('customer-'.length)} TierChanged ${victim.event_id} #${victim.revision} type: expected "MonthClosed", found "TierChanged"`);
  });
});
