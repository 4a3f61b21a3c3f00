import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { monthOf, parseInstant } from '@crm/domain';
import { CUSTOMER_STREAM_PREFIX, SqliteEventStore, type StoredEvent } from '@crm/event-store';
import { openEmbeddedWriteSide, sweepAll, type WriteSide } from '@crm/ingest';
import { MemoryReadModelStore, type Doc } from '@crm/read-model';
import { numberedLines } from '../../../test/support/ndjson';
import { generateScenario, SWEEP_AS_OF } from '../../../test/support/scenario';
import { customerView } from './customer-queries';
import { POSITION_FIELD } from './projection';
import { Projector, type ProjectionEffect } from './projector';
import { alerts, complaints, customer360, funnel, managerLoad, portfolio, pyramid } from './queries';
import { ReadSide } from './read-side';
import { ALL_VIEWS, alertsFor } from './views';

jest.setTimeout(240_000);

/**
 * Documents with keys sorted recursively, so two views compare by content only. The position stamp is
 * replay bookkeeping (it depends on where batches ended), not content.
 */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.keys(v as object).filter((k) => k !== POSITION_FIELD).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}

async function dump(rs: ReadSide): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const v of ALL_VIEWS) out[v.name] = (await rs.readModel.find(rs.collection(v.name), {}, { sort: { _id: 1 } })).map(canonical);
  return out;
}

async function allEvents(w: WriteSide): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of w.store.readAll({ streamPrefix: CUSTOMER_STREAM_PREFIX })) out.push(e);
  return out;
}

describe('read side over a generated history (memory read model)', () => {
  const scenario = generateScenario({ seed: 4242 });
  let dir: string;
  let w: WriteSide;
  let rs: ReadSide;
  const effects: ProjectionEffect[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crm-readside-'));
    w = openEmbeddedWriteSide(dir);
    // The first month goes in before the read side starts (a catch-up), the rest while it follows live.
    const [first, ...rest] = scenario.files;
    await w.pipeline.ingest(numberedLines(first.content), { source: 'test' });
    await w.periods.close(first.month, w.writer);
    rs = await ReadSide.open(w.store, new MemoryReadModelStore(), { onEffect: (e) => effects.push(e) });
    for (const f of rest) {
      await w.pipeline.ingest(numberedLines(f.content), { source: 'test' });
      await w.periods.close(f.month, w.writer);
    }
    await sweepAll(w.store, w.writer, SWEEP_AS_OF);
    expect(await rs.waitFor(await w.store.headPosition(), 60_000)).toBe(true);
  });

  afterAll(async () => {
    await rs?.close();
    await w?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Customer 360 of every customer equals the fold of its stream', async () => {
    const diffs: string[] = [];
    for (const id of scenario.customers) {
      const projected = await customer360(rs, id);
      const folded = await customerView(w.store, id);
      if (JSON.stringify(canonical(projected)) !== JSON.stringify(canonical(folded))) diffs.push(id);
    }
    expect(scenario.customers.length).toBeGreaterThan(200);
    expect(diffs).toEqual([]);
  });

  it('counter views equal a direct count over the recorded events', async () => {
    const events = await allEvents(w);
    const pyr = new Map<string, { customers: number; fen: number }>();
    const trans = new Map<string, number>();
    for (const e of events) {
      const d = e.data as Record<string, any>;
      if (e.type === 'MonthClosed') {
        const k = `${d.month}|${d.tier}`;
        const c = pyr.get(k) ?? { customers: 0, fen: 0 };
        c.customers++;
        c.fen += d.contributionFen;
        pyr.set(k, c);
      }
      if (e.type === 'LifecycleStageChanged') {
        const k = `${monthOf(parseInstant(d.effectiveAt))}|${d.from ?? 'NEW'}>${d.to}`;
        trans.set(k, (trans.get(k) ?? 0) + 1);
      }
    }
    const lateFen = events.filter((e) => e.type === 'ShipmentPickedUp' && (e.data as { late?: boolean }).late).reduce((a, e) => a + (e.data as { freightFen: number }).freightFen, 0);
    const report = await pyramid(rs);
    expect(report.map((m) => m.month)).toEqual(scenario.files.map((f) => f.month));
    const got = new Map<string, { customers: number; fen: number }>();
    for (const m of report) for (const t of m.tiers) if (t.customers > 0) got.set(`${m.month}|${t.tier}`, { customers: t.customers, fen: t.contributionFen });
    // Late shipments add to their month after the close: the pyramid holds MonthClosed totals plus them.
    const gotFen = [...got.values()].reduce((a, c) => a + c.fen, 0);
    const closedFen = [...pyr.values()].reduce((a, c) => a + c.fen, 0);
    expect(gotFen).toBe(closedFen + lateFen);
    expect(report.reduce((a, m) => a + m.lateFen, 0)).toBe(lateFen);
    expect(new Map([...got].map(([k, c]) => [k, c.customers]))).toEqual(new Map([...pyr].map(([k, c]) => [k, c.customers])));

    const f = await funnel(rs);
    const gotTrans = new Map<string, number>();
    for (const m of f) for (const [k, n] of Object.entries(m.transitions)) gotTrans.set(`${m.month}|${k}`, n);
    expect(gotTrans).toEqual(trans);
    // Stage counts at the last month end = customers per current stage.
    const last = f[f.length - 1];
    const stages: Record<string, number> = {};
    for (const id of scenario.customers) {
      const v = await customer360(rs, id);
      if (v?.stage) stages[v.stage] = (stages[v.stage] ?? 0) + 1;
    }
    for (const [s, n] of Object.entries(last.stages)) expect([s, n]).toEqual([s, stages[s] ?? 0]);

    const filed = events.filter((e) => e.type === 'ComplaintFiled').length;
    const breaches = events.filter((e) => e.type === 'ComplaintSlaBreached').length;
    const c = await complaints(rs);
    expect(c.reduce((a, r) => a + r.filed, 0)).toBeGreaterThan(0);
    expect(c.reduce((a, r) => a + r.filed, 0)).toBeLessThanOrEqual(filed);
    expect(c.reduce((a, r) => a + r.ackBreaches + r.resolveBreaches, 0)).toBe(breaches);
    for (const r of c) expect(r.breached).toBeLessThanOrEqual(r.filed);

    const load = await managerLoad(rs);
    const byManager = new Map<string | null, number>();
    for (const id of scenario.customers) {
      const v = await customer360(rs, id);
      if (v) byManager.set(v.managerId, (byManager.get(v.managerId) ?? 0) + 1);
    }
    expect(new Map(load.map((l) => [l.managerId, l.customers]))).toEqual(byManager);
  });

  it('alerts, portfolio pages and counts agree with the Customer 360 documents', async () => {
    const views = (await Promise.all(scenario.customers.map((id) => customer360(rs, id)))).filter((v) => v !== null);
    const expected = views.flatMap((v) => alertsFor(v)).map((a) => a._id).sort();
    const all = await alerts(rs, { pageSize: 200 });
    expect(all.total).toBe(expected.length);
    const ids: string[] = [];
    for (let page = 1; page <= Math.ceil(all.total / 200); page++) ids.push(...(await alerts(rs, { page, pageSize: 200 })).items.map((a) => a.alertId));
    expect(ids.sort()).toEqual(expected);

    const managers = [...new Set(views.map((v) => v.managerId).filter((m): m is string => m !== null))];
    expect(managers.length).toBeGreaterThan(0);
    for (const m of managers) {
      const mine = views.filter((v) => v.managerId === m);
      const seen: string[] = [];
      let page = 1;
      for (;;) {
        const p = await portfolio(rs, { managerId: m, page, pageSize: 7, sort: 'monthToDateFen', order: 'desc' });
        expect(p.total).toBe(mine.length);
        seen.push(...p.items.map((i) => i.customerId));
        for (let i = 1; i < p.items.length; i++) expect(p.items[i - 1].monthToDateFen).toBeGreaterThanOrEqual(p.items[i].monthToDateFen);
        if (p.items.length < 7) break;
        page++;
      }
      expect(seen.sort()).toEqual(mine.map((v) => v.customerId).sort());
      const vip = await portfolio(rs, { managerId: m, tier: ['VIP', 'PROJECT'], risk: ['HIGH', 'MEDIUM'] });
      expect(vip.total).toBe(mine.filter((v) => ['VIP', 'PROJECT'].includes(v.tier) && ['HIGH', 'MEDIUM'].includes(v.risk.level)).length);
    }
  });

  it('live alerts fired effects; a rebuild from scratch gives the same views and fires none', async () => {
    expect(effects.length).toBeGreaterThan(0);
    const before = await dump(rs);
    const firedBefore = effects.length;
    const oldCollections = rs.entries().map((e) => e.collection);
    const report = await rs.rebuild();
    expect(report.generation).toBe(2);
    expect(rs.entries().map((e) => e.collection)).not.toEqual(oldCollections);
    for (const c of oldCollections) expect(await rs.readModel.listCollections()).not.toContain(c);
    expect(await dump(rs)).toEqual(before);
    expect(effects.length).toBe(firedBefore);
  });

  it('views built from a replay on the store’s replay thread equal the live ones', async () => {
    const store = SqliteEventStore.open(join(dir, 'events.sqlite'), { replayThreadMinEvents: 0 });
    try {
      const replayed = await ReadSide.open(store, new MemoryReadModelStore(), { live: false });
      expect(await dump(replayed)).toEqual(await dump(rs));
    } finally {
      await store.close();
    }
  });

  it('an event seen twice changes nothing (a crash between the writes and the checkpoint, then more events)', async () => {
    const events = await allEvents(w);
    const collectionOf = (v: { name: string }) => `${v.name}_replay`;
    const snapshot = async (store: MemoryReadModelStore) =>
      Object.fromEntries(await Promise.all(ALL_VIEWS.map(async (v) => [v.name, (await store.find(collectionOf(v), {}, { sort: { _id: 1 } })).map(canonical)])));
    const clean = new MemoryReadModelStore();
    await new Projector(w.store, clean, ALL_VIEWS, { collectionOf }).apply(events);

    const store = new MemoryReadModelStore();
    const p1 = new Projector(w.store, store, ALL_VIEWS, { collectionOf });
    const half = Math.floor(events.length / 2);
    await p1.apply(events.slice(0, half));
    await p1.apply(events.slice(0, half)); // the same events again: skipped
    // The documents of the first half were written but the checkpoints were lost: a new projector replays
    // everything from 0 and goes on with the rest.
    for (const v of ALL_VIEWS) await store.resetCheckpoint(collectionOf(v));
    const p2 = new Projector(w.store, store, ALL_VIEWS, { collectionOf });
    await p2.catchUp();
    expect(await snapshot(store)).toEqual(await snapshot(clean));
    const counters: Doc[] = await store.find(collectionOf({ name: 'pyramid' }));
    expect(counters.length).toBeGreaterThan(0);
    expect(counters.every((d) => typeof d[POSITION_FIELD] === 'string')).toBe(true);
  });
});
