import { mkdirSync, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import Database from 'better-sqlite3';
import type { Tier } from '@crm/contracts';
import { parseInstant, POLICY_V1 } from '@crm/domain';
import { customerStream, CUSTOMER_STREAM_PREFIX, SqliteEventStore, type StoredEvent } from '@crm/event-store';
import { createWriteSide, CustomerWriter, IngestPipeline, openEmbeddedWriteSide, PeriodRegistry, PolicyAdoptionError, PolicyRegistry, SqliteQuarantine, sweepAll, type WriteSide } from '@crm/ingest';
import { customerView, CustomerViewBuilder, ReadSide } from '@crm/projections';
import { MemoryReadModelStore } from '@crm/read-model';
import { numberedLines } from '../../../test/support/ndjson';
import { insertBehindTheStore, NAMED_EVENTS } from '../../../test/support/sqlite-behind-the-store';
import { generateScenario, SWEEP_AS_OF, type Scenario } from '../../../test/support/scenario';
import { explain } from './explain';
import { verifyHistory, verifyProjections } from './verify';
import { whatIf } from './what-if';

jest.setTimeout(300_000);


/** The scenario as production would see it: each month imported, then closed; a sweep at the end. */
async function load(w: WriteSide, scenario: Scenario): Promise<void> {
  for (const f of scenario.files) {
    await w.pipeline.ingest(numberedLines(f.content), { source: 'test' });
    await w.periods.close(f.month, w.writer);
  }
  await sweepAll(w.store, w.writer, SWEEP_AS_OF);
}

async function readStream(w: WriteSide, customerId: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of w.store.readStream(customerStream(customerId))) out.push(e);
  return out;
}

/** Tier per closed month of every customer, from the recorded MonthClosed events. */
async function monthlyTiers(w: WriteSide): Promise<Map<string, Map<string, Tier>>> {
  const out = new Map<string, Map<string, Tier>>();
  for await (const e of w.store.readAll({ streamPrefix: CUSTOMER_STREAM_PREFIX })) {
    if (e.type !== 'MonthClosed') continue;
    const id = e.streamId.slice(CUSTOMER_STREAM_PREFIX.length);
    if (!out.has(id)) out.set(id, new Map());
    (out.get(id) as Map<string, Tier>).set((e.data as { month: string }).month, (e.data as { tier: Tier }).tier);
  }
  return out;
}

describe('audit over the held-out scenario', () => {
  const scenario = generateScenario({ seed: 777 });
  let dir: string;
  let w: WriteSide;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crm-audit-'));
    w = openEmbeddedWriteSide(join(dir, 'live'));
    await load(w, scenario);
  });
  afterAll(async () => {
    await w.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verify is clean on an untouched store', async () => {
    const r = await verifyHistory(w.store, w.policies);
    expect(r.customers).toBe(scenario.customers.length);
    expect(r.events).toBeGreaterThan(scenario.stats.accepted);
    expect(r.chain).toEqual([]);
    expect(r.derived).toEqual([]);
  });

  it('verify names a changed amount, a deleted event, a row inserted by hand and a forged derived event done behind the system', async () => {
    const tampered = join(dir, 'tampered');
    mkdirSync(tampered);
    // a consistent copy of the live file (its WAL included)
    const live = new Database(join(dir, 'live', 'events.sqlite'), { readonly: true });
    live.exec(`VACUUM INTO '${join(tampered, 'events.sqlite')}'`);
    live.close();
    const db = new Database(join(tampered, 'events.sqlite'));
    const shipment = db.prepare(`${NAMED_EVENTS} WHERE t.name = 'ShipmentPickedUp' ORDER BY e.position LIMIT 1 OFFSET 100`).get() as { stream_id: string; revision: number; event_id: string; data: string; metadata: string };
    db.prepare("UPDATE events SET data = json_set(data, '$.freightFen', json_extract(data, '$.freightFen') + 100) WHERE event_id = ?").run(shipment.event_id);
    const change = db.prepare(`${NAMED_EVENTS} WHERE t.name = 'LifecycleStageChanged' AND s.stream_id <> ? ORDER BY e.position LIMIT 1 OFFSET 50`).get(shipment.stream_id) as { stream_id: string; revision: number; event_id: string };
    db.prepare('DELETE FROM events WHERE event_id = ?').run(change.event_id);
    // a shipment inserted by hand: SQLite takes it, but no stream reaches it
    insertBehindTheStore(db, { eventId: 'by-hand', stream: shipment.stream_id, revision: shipment.revision + 1000, type: 'ShipmentPickedUp', data: shipment.data, metadata: shipment.metadata });
    db.close();

    // The forger appends through the store itself, so the chain is intact: only re-derivation can see it.
    const forgedStore = SqliteEventStore.open(join(tampered, 'events.sqlite'));
    const victim = scenario.customers.find((c) => c !== shipment.stream_id.slice(9) && c !== change.stream_id.slice(9)) as string;
    const revision = await forgedStore.streamRevision(customerStream(victim));
    const forged = 'f0f0f0f0-0000-4000-8000-000000000001';
    await forgedStore.append(
      customerStream(victim),
      [{ id: forged, type: 'TierChanged', data: { from: 'TRANSIENT', to: 'VIP', month: '2026-08', contributionFen: 0, rule: 'UPGRADE', inputs: { window: {}, thresholdFen: 0, floorTier: 'VIP' }, reason: 'forged', policyVersion: 1, effectiveAt: '2026-09-01T00:00:00+08:00' }, metadata: { correlationId: 'close:2026-08:' + victim, causationId: 'close:2026-08:' + victim, occurredAt: '2026-09-01T00:00:00+08:00', recordedAt: new Date().toISOString(), policyVersion: 1, schemaVersion: 1 } }],
      revision,
    );
    await forgedStore.close();

    const t = openEmbeddedWriteSide(tampered);
    try {
      const r = await verifyHistory(t.store, t.policies);
      // the changed amount: its own hash
      expect(r.chain).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'ALTERED', streamId: shipment.stream_id, revision: shipment.revision, eventId: shipment.event_id })]));
      // the deleted event: a gap and the broken link of the event after it, and the re-derivation misses it
      expect(r.chain).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'REVISION_GAP', streamId: change.stream_id, revision: change.revision + 1 })]));
      expect(r.derived).toEqual(expect.arrayContaining([expect.objectContaining({ customerId: change.stream_id.slice(9), eventId: change.event_id, field: 'event', found: '(missing)' })]));
      // the row inserted by hand: in no stream
      expect(r.chain).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'OUTSIDE_STREAM', streamId: shipment.stream_id, eventId: 'by-hand', found: 'in no stream' })]));
      // the forged event: no rule derives it
      expect(r.derived).toEqual(expect.arrayContaining([expect.objectContaining({ customerId: victim, eventId: forged, type: 'TierChanged', field: 'event', found: 'TierChanged' })]));
      // nothing else than what these changes explain
      const streams = new Set([shipment.stream_id, change.stream_id, customerStream(victim)]);
      expect(r.chain.filter((b) => !streams.has(b.streamId))).toEqual([]);
      expect(r.derived.filter((d) => !streams.has(customerStream(d.customerId)))).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('what-if with raised VIP floors reports exactly the customers a direct re-derivation under that policy puts elsewhere', async () => {
    const raised = { tierFloorsFen: { ...POLICY_V1.tierFloorsFen, VIP: 1_500_000 } };
    const proposed = await w.policies.propose(raised);
    const report = await whatIf(w.store, w.policies, { ...proposed, effectiveFrom: '2000-01' });
    expect(report.customers).toBe(scenario.customers.length);

    // Direct re-derivation: the same history imported into a fresh store under the raised policy, adopted first.
    const direct = openEmbeddedWriteSide(join(dir, 'direct'));
    try {
      await direct.policies.adopt({ ...proposed, effectiveFrom: '2000-01' }, null);
      await load(direct, scenario);
      const now = await monthlyTiers(w);
      const then = await monthlyTiers(direct);
      const expected: Record<string, { month: string; current: Tier; proposed: Tier }[]> = {};
      for (const [id, months] of now) {
        for (const [month, tier] of months) {
          const p = then.get(id)?.get(month);
          if (p !== tier) (expected[id] ??= []).push({ month, current: tier, proposed: p as Tier });
        }
      }
      const reported = Object.fromEntries(report.changes.filter((c) => c.months.length > 0).map((c) => [c.customerId, c.months]));
      expect(Object.keys(expected).length).toBeGreaterThan(0);
      expect(reported).toEqual(expected);
      // every move is downwards from VIP: nothing else changed
      expect(Object.keys(report.moves).every((m) => m.startsWith('VIP → '))).toBe(true);
    } finally {
      await direct.close();
    }
    // and nothing was recorded in the live store
    expect((await verifyHistory(w.store, w.policies)).derived).toEqual([]);
    expect((await w.policies.history()).length).toBe(0);
  });

  it('asOf at sampled instants equals folding only the events that had occurred by then', async () => {
    const instants = ['2026-01-15T12:00:00+08:00', '2026-03-01T00:00:00+08:00', '2026-04-30T23:59:59+08:00', '2026-06-10T08:00:00Z', '2026-08-31T23:59:59+08:00'];
    for (const id of scenario.customers.filter((_, i) => i % 7 === 0)) {
      const events = await readStream(w, id);
      for (const at of instants) {
        const b = new CustomerViewBuilder(id);
        const occurred = events.filter((e) => parseInstant(e.metadata.occurredAt) <= parseInstant(at));
        for (const e of occurred) b.apply(e);
        expect(await customerView(w.store, id, { asOf: at })).toEqual(occurred.length === 0 ? null : b.view(at));
      }
    }
  });

  it('knownAt at sampled recording instants equals folding only the events recorded by then', async () => {
    // The instants the store itself recorded (one per append batch), sampled across the whole load.
    const recorded = new Set<string>();
    for await (const e of w.store.readAll()) recorded.add(e.metadata.recordedAt);
    const all = [...recorded].sort();
    expect(all.length).toBeGreaterThan(8);
    const instants = [0.1, 0.3, 0.5, 0.7, 0.9].map((q) => all[Math.floor(q * (all.length - 1))]);
    let differed = 0;
    for (const id of scenario.customers.filter((_, i) => i % 7 === 3)) {
      const events = await readStream(w, id);
      for (const at of instants) {
        const b = new CustomerViewBuilder(id);
        const known = events.filter((e) => parseInstant(e.metadata.recordedAt) <= parseInstant(at));
        for (const e of known) b.apply(e);
        const view = await customerView(w.store, id, { knownAt: at });
        expect(view).toEqual(known.length === 0 ? null : b.view());
        if (known.length > 0 && known.length < events.length) differed++;
      }
    }
    // the samples really cut streams in the middle
    expect(differed).toBeGreaterThan(0);
  });

  it('explains each decision with its inputs and policy version', async () => {
    const vip = (await monthlyTiers(w)).entries();
    let explained = 0;
    for (const [id, months] of vip) {
      if (![...months.values()].includes('VIP')) continue;
      const lines = explain(await readStream(w, id));
      const upgrade = lines.find((l) => l.type === 'TierChanged' && /upgraded [A-Z]+ → VIP/.test(l.text));
      if (!upgrade) continue;
      expect(upgrade.text).toMatch(/^\d{4}-\d{2} upgraded [A-Z]+ → VIP: contribution [\d,]+\.\d{2} 元 ≥ 10,000\.00 元 \(policy v1, upgrade rule\)$/);
      expect(upgrade.cause).toMatch(/^close:\d{4}-\d{2}:/);
      expect(lines.some((l) => l.type === 'LifecycleStageChanged' && /ACQUISITION/.test(l.text))).toBe(true);
      explained++;
    }
    expect(explained).toBeGreaterThan(0);
  });

  it('verify compares the live projections with a fresh rebuild and names a changed document', async () => {
    const live = await ReadSide.open(w.store, new MemoryReadModelStore(), { live: false });
    try {
      expect((await verifyProjections(w.store, live)).differences).toBe(0);
      const collection = live.collection('customers');
      const [doc] = await live.readModel.find(collection, {}, { limit: 1 });
      await live.readModel.commit('tamper', [{ collection, writes: [{ put: { ...doc, tier: doc.tier === 'VIP' ? 'MIDDLE' : 'VIP' } }] }], 0n);
      const r = await verifyProjections(w.store, live);
      expect(r.differences).toBe(1);
      expect(r.items).toEqual([{ view: 'customers', documentId: doc._id, field: 'tier', expected: doc.tier, found: doc.tier === 'VIP' ? 'MIDDLE' : 'VIP' }]);
    } finally {
      await live.close();
    }
  });
});

describe('time travel on two clocks and policy versions', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-clocks-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const ship = (id: string, occurredAt: string, freightFen: number) => ({ eventId: id, type: 'ShipmentPickedUp', occurredAt, customerId: 'C1', data: { waybillNo: `W-${id}`, freightFen, product: 'NEXT_DAY', originCity: '上海', destinationCity: '北京', weightGrams: 1000 } });

  it('asOf sees a late shipment by when it happened, knownAt only from when it was recorded', async () => {
    let clock = new Date('2026-03-05T02:00:00Z');
    const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
    const policies = new PolicyRegistry(store);
    const writer = new CustomerWriter(store, policies, () => clock);
    const periods = new PeriodRegistry(store);
    const pipeline = new IngestPipeline(store, writer, periods, new SqliteQuarantine(join(dir, 'q.sqlite')));
    const id = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
    const r1 = await pipeline.ingest([{ line: 1, value: ship(id(1), '2026-02-10T10:00:00+08:00', 40_000) }, { line: 2, value: ship(id(2), '2026-03-02T10:00:00+08:00', 5_000) }], { source: 't' });
    expect(r1.rejections).toEqual([]);
    await periods.close('2026-02', writer);
    clock = new Date('2026-03-20T02:00:00Z');
    // recorded on 20 March, happened on 20 February: late
    await pipeline.ingest([{ line: 1, value: ship(id(3), '2026-02-20T10:00:00+08:00', 300_000) }], { source: 't' });

    const t = '2026-03-10T00:00:00+08:00';
    const asOf = await customerView(store, 'C1', { asOf: t });
    const knownAt = await customerView(store, 'C1', { knownAt: t });
    expect(asOf?.shipments.total).toBe(3);
    expect(knownAt?.shipments.total).toBe(2);
    // what we believed then vs what we now know happened by then: February's contribution differs by the late shipment
    const feb = (v: typeof asOf) => v?.contributionByMonth.find((m) => m.month === '2026-02')?.contributionFen;
    expect(feb(asOf)).toBe(340_000);
    expect(feb(knownAt)).toBe(40_000);
    // knownAt equals the fold of what had been recorded by then
    const b = new CustomerViewBuilder('C1');
    for await (const e of store.readStream(customerStream('C1'))) if (parseInstant(e.metadata.recordedAt) <= parseInstant(t)) b.apply(e);
    expect(knownAt).toEqual(b.view());
    await store.close();
  });

  it('asOf evaluates time-based risk under the policy in force then', async () => {
    const w = createWriteSide(SqliteEventStore.open(join(dir, 'events.sqlite')), new SqliteQuarantine(join(dir, 'q.sqlite')));
    // v2 from March: inactive after 10 days instead of 30
    await w.policies.adopt(await w.policies.propose({ effectiveFrom: '2026-03', risk: { inactiveDays: 10 } }), null);
    const at = ['2026-02-26T10:00:00+08:00', '2026-02-27T10:00:00+08:00', '2026-03-01T10:00:00+08:00'];
    await w.pipeline.ingest(at.map((t, i) => ({ line: i + 1, value: { ...ship(`00000000-0000-4000-8000-0000000000${30 + i}`, t, 5_000), customerId: 'C2' } })), { source: 't' });
    const asOf = '2026-03-20T00:00:00+08:00'; // 19 days after the last shipment
    const underBook = await customerView(w.store, 'C2', { asOf }, await w.policies.book());
    expect(underBook?.stage).toBe('RETENTION');
    expect(underBook?.risk.signals).toContain('INACTIVE_30D');
    expect((await customerView(w.store, 'C2', { asOf }))?.risk.signals).not.toContain('INACTIVE_30D'); // v1 alone: 30 days
    await w.close();
  });

  it('a new policy version decides from its effective month on, never before, and verify stays clean', async () => {
    const w = createWriteSide(SqliteEventStore.open(join(dir, 'events.sqlite')), new SqliteQuarantine(join(dir, 'q.sqlite')));
    const shipment = (n: number, at: string) => ({ line: n, value: { ...ship(`00000000-0000-4000-8000-0000000000${10 + n}`, at, 1_200_000), customerId: 'C1' } });
    await w.pipeline.ingest([shipment(1, '2026-01-10T10:00:00+08:00')], { source: 't' });
    await w.periods.close('2026-01', w.writer);
    await expect(w.policies.adopt(await w.policies.propose({ effectiveFrom: '2026-01', tierFloorsFen: { VIP: 1_500_000 } }), '2026-01')).rejects.toThrow(PolicyAdoptionError);
    const v2 = await w.policies.propose({ effectiveFrom: '2026-02', tierFloorsFen: { VIP: 1_500_000 } });
    expect(v2.version).toBe(2);
    await w.policies.adopt(v2, await w.periods.closedThrough());
    await w.pipeline.ingest([shipment(2, '2026-02-10T10:00:00+08:00')], { source: 't' });
    await w.periods.close('2026-02', w.writer);
    const closes: { month: string; tier: string; policyVersion: number }[] = [];
    for await (const e of w.store.readStream(customerStream('C1'))) if (e.type === 'MonthClosed') closes.push(e.data as { month: string; tier: string; policyVersion: number });
    // January (v1): 12,000 元 ≥ 10,000 元 is VIP. February (v2): the best of the last three months, 12,000 元, is under
    // v2's 15,000 元 VIP floor, so the downgrade rule moves it to MIDDLE; January's record stays as v1 decided it.
    expect(closes).toEqual([expect.objectContaining({ month: '2026-01', tier: 'VIP', policyVersion: 1 }), expect.objectContaining({ month: '2026-02', tier: 'MIDDLE', policyVersion: 2 })]);
    const r = await verifyHistory(w.store, w.policies);
    expect([r.chain, r.derived]).toEqual([[], []]);
    await w.close();
  });
});
