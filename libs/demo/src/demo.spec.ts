import { existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { isDeepStrictEqual } from 'util';
import { COMPLAINT_CATEGORIES, COMPLAINT_SOURCES, UPSTREAM_TYPES, UpstreamEvent, validateUpstream } from '@crm/contracts';
import { CDNOW_NAMESPACE, DEMO_DEFAULTS, generateCdnowEvents, generateDemoHistory, uuidV5, writeDemoNdjson } from './index';

const DAY_MS = 86_400_000;
const take = <T>(it: Iterable<T>, n: number): T[] => {
  const out: T[] = [];
  for (const x of it) {
    if (out.length >= n) break;
    out.push(x);
  }
  return out;
};
/** Monday (YYYY-MM-DD) of the Beijing-time week holding a `…+08:00` instant. */
const mondayOf = (occurredAt: string): string => {
  const d = Date.parse(occurredAt.slice(0, 10) + 'T00:00:00Z');
  return new Date(d - ((new Date(d).getUTCDay() + 6) % 7) * DAY_MS).toISOString().slice(0, 10);
};

/** One pass over the default history, keeping only aggregates (the run is ~400k events). */
interface Stats {
  count: number;
  ms: number;
  byType: Record<string, number>;
  invalid: Array<{ eventId: string; errors: string[] }>;
  changedByValidation: number;
  outOfOrder: number;
  duplicateIds: number;
  notRegisteredFirst: Set<string>;
  registrations: Map<string, number>;
  contribution: Map<string, Map<string, number>>;
  weekly: Map<string, number>;
  monthly: Map<string, number>;
  categories: Set<string>;
  sources: Set<string>;
  winBacks: Set<string>;
  lastPickup: Map<string, number>;
  managed: Set<string>;
  pickupsInBusinessHours: number;
  complaints: Map<string, { filed: number; ack?: number; resolved?: number }>;
  overdue: Set<string>;
  settled: Map<string, number>;
  settledAfterOverdue: number;
  maxAt: string;
}

function collect(events: Iterable<UpstreamEvent>): Stats {
  const s: Stats = {
    count: 0,
    ms: 0,
    byType: {},
    invalid: [],
    changedByValidation: 0,
    outOfOrder: 0,
    duplicateIds: 0,
    notRegisteredFirst: new Set(),
    registrations: new Map(),
    contribution: new Map(),
    weekly: new Map(),
    monthly: new Map(),
    categories: new Set(),
    sources: new Set(),
    winBacks: new Set(),
    lastPickup: new Map(),
    managed: new Set(),
    pickupsInBusinessHours: 0,
    complaints: new Map(),
    overdue: new Set(),
    settled: new Map(),
    settledAfterOverdue: 0,
    maxAt: '',
  };
  const ids = new Set<string>();
  let previous = -Infinity;
  const started = Date.now();
  for (const e of events) {
    s.count++;
    // Validate exactly what a consumer receives: the serialized line.
    const line = JSON.stringify(e);
    const v = validateUpstream(JSON.parse(line));
    if (!v.ok) {
      if (s.invalid.length < 5) s.invalid.push({ eventId: e.eventId, errors: v.errors });
    } else if (s.count % 50 === 0 && !isDeepStrictEqual(v.event, JSON.parse(line))) s.changedByValidation++; // no fields outside the contract
    s.byType[e.type] = (s.byType[e.type] ?? 0) + 1;
    const t = Date.parse(e.occurredAt);
    if (t < previous) s.outOfOrder++;
    previous = t;
    s.maxAt = e.occurredAt;
    if (ids.has(e.eventId)) s.duplicateIds++;
    ids.add(e.eventId);
    if (e.type === 'CustomerRegistered') s.registrations.set(e.customerId, (s.registrations.get(e.customerId) ?? 0) + 1);
    else if (!s.registrations.has(e.customerId)) s.notRegisteredFirst.add(e.customerId);
    switch (e.type) {
      case 'ShipmentPickedUp': {
        const month = e.occurredAt.slice(0, 7);
        let c = s.contribution.get(e.customerId);
        if (!c) s.contribution.set(e.customerId, (c = new Map()));
        c.set(month, (c.get(month) ?? 0) + e.data.freightFen);
        s.monthly.set(month, (s.monthly.get(month) ?? 0) + 1);
        const week = mondayOf(e.occurredAt);
        s.weekly.set(week, (s.weekly.get(week) ?? 0) + 1);
        const last = s.lastPickup.get(e.customerId);
        if (last !== undefined && t - last >= 60 * DAY_MS) s.winBacks.add(e.customerId);
        s.lastPickup.set(e.customerId, t);
        const hour = Number(e.occurredAt.slice(11, 13));
        if (hour >= 8 && hour < 20) s.pickupsInBusinessHours++;
        break;
      }
      case 'AccountManagerAssigned':
        s.managed.add(e.customerId);
        break;
      case 'ComplaintFiled':
        s.categories.add(e.data.category);
        s.sources.add(e.data.source);
        s.complaints.set(e.data.complaintId, { filed: t });
        break;
      case 'ComplaintAcknowledged':
        s.complaints.get(e.data.complaintId)!.ack = t;
        break;
      case 'ComplaintResolved':
        s.complaints.get(e.data.complaintId)!.resolved = t;
        break;
      case 'PaymentOverdue':
        s.overdue.add(e.data.invoiceId);
        break;
      case 'PaymentSettled':
        s.settled.set(e.data.invoiceId, (s.settled.get(e.data.invoiceId) ?? 0) + 1);
        if (s.overdue.has(e.data.invoiceId)) s.settledAfterOverdue++;
        break;
    }
  }
  s.ms = Date.now() - started;
  return s;
}

describe('generateDemoHistory (default run: 2,000 customers, 2025-09..2026-10)', () => {
  let s: Stats;
  beforeAll(() => {
    s = collect(generateDemoHistory());
  }, 120_000);

  it('stays within the event budget', () => {
    expect(s.count).toBeGreaterThan(250_000);
    expect(s.count).toBeLessThanOrEqual(420_000);
    expect(s.registrations.size).toBe(DEMO_DEFAULTS.customers);
  });

  it('emits only events that pass validateUpstream, with no fields outside the contract', () => {
    expect(s.invalid).toEqual([]);
    expect(s.changedByValidation).toBe(0);
    for (const type of UPSTREAM_TYPES) expect(s.byType[type]).toBeGreaterThan(0);
  });

  it('is ordered by occurredAt, inside the range, with unique eventIds', () => {
    expect(s.outOfOrder).toBe(0);
    expect(s.duplicateIds).toBe(0);
    expect(s.maxAt < '2026-11-01').toBe(true);
  });

  it('registers every customer exactly once, before anything else about it', () => {
    expect(s.notRegisteredFirst.size).toBe(0);
    expect([...s.registrations.values()].every((n) => n === 1)).toBe(true);
  });

  it('has the value pyramid: ~80% < 2,000 元, 15% MIDDLE, 4% VIP, 1% PROJECT by mean monthly contribution', () => {
    const bands = { small: 0, middle: 0, vip: 0, project: 0 };
    for (const months of s.contribution.values()) {
      const mean = [...months.values()].reduce((a, b) => a + b, 0) / months.size; // active months only
      if (mean >= 10_000_000) bands.project++;
      else if (mean >= 1_000_000) bands.vip++;
      else if (mean >= 200_000) bands.middle++;
      else bands.small++;
    }
    const n = s.contribution.size;
    const pct = (k: number): number => (100 * k) / n;
    expect(Math.abs(pct(bands.small) - 80)).toBeLessThanOrEqual(5);
    expect(Math.abs(pct(bands.middle) - 15)).toBeLessThanOrEqual(5);
    expect(Math.abs(pct(bands.vip) - 4)).toBeLessThanOrEqual(2.5);
    expect(Math.abs(pct(bands.project) - 1)).toBeLessThanOrEqual(1.5);
    expect(bands.project).toBeGreaterThan(0);
  });

  it('peaks at Double-11: November above October, the 11-11 week the busiest of all', () => {
    expect(s.monthly.get('2025-11')!).toBeGreaterThan(s.monthly.get('2025-10')! * 1.2);
    const weeks = [...s.weekly].filter(([monday]) => monday >= '2025-09-01' && monday <= '2026-10-26'); // full weeks only
    const [busiest] = weeks.sort((a, b) => b[1] - a[1])[0];
    expect(busiest).toBe(mondayOf('2025-11-11T12:00:00+08:00'));
  });

  it('dips at the Spring Festival (February 2026 well below January and March)', () => {
    expect(s.monthly.get('2026-02')!).toBeLessThan(0.75 * s.monthly.get('2026-01')!);
    expect(s.monthly.get('2026-02')!).toBeLessThan(0.75 * s.monthly.get('2026-03')!);
  });

  it('has churned, paused-and-won-back, and never-shipping customers', () => {
    expect(s.winBacks.size).toBeGreaterThanOrEqual(20); // a gap of ≥ 60 days, then a shipment
    const end = Date.parse('2026-11-01T00:00:00+08:00');
    const lost = [...s.lastPickup.values()].filter((t) => end - t > 180 * DAY_MS).length;
    expect(lost).toBeGreaterThanOrEqual(10);
    expect(s.registrations.size - s.contribution.size).toBeGreaterThanOrEqual(20);
  });

  it('assigns managers to most customers and almost all key accounts, leaving a few key accounts without', () => {
    expect(s.managed.size).toBeGreaterThan(s.registrations.size / 2);
    const key = [...s.contribution].filter(([, m]) => [...m.values()].reduce((a, b) => a + b, 0) / m.size >= 1_000_000).map(([id]) => id);
    const unmanaged = key.filter((id) => !s.managed.has(id)).length;
    expect(unmanaged).toBeGreaterThan(0);
    expect(unmanaged).toBeLessThan(key.length * 0.2);
  });

  it('picks up mostly in business hours (8:00–20:00 Beijing time)', () => {
    expect(s.pickupsInBusinessHours / s.byType.ShipmentPickedUp).toBeGreaterThan(0.9);
  });

  it('delivers most shipments and reports exceptions for ~2%', () => {
    const picked = s.byType.ShipmentPickedUp;
    expect(s.byType.ShipmentDelivered / picked).toBeGreaterThan(0.95);
    expect(s.byType.ShipmentException / picked).toBeGreaterThan(0.01);
    expect(s.byType.ShipmentException / picked).toBeLessThan(0.03);
  });

  it('files complaints of every category and source, some breaching SLAs, some left open', () => {
    expect([...s.categories].sort()).toEqual([...COMPLAINT_CATEGORIES].sort());
    expect([...s.sources].sort()).toEqual([...COMPLAINT_SOURCES].sort());
    const all = [...s.complaints.values()];
    const h = 3_600_000;
    expect(all.filter((c) => c.ack !== undefined && c.ack - c.filed <= 2 * h).length).toBeGreaterThan(0);
    expect(all.filter((c) => c.ack !== undefined && c.ack - c.filed > 24 * h).length).toBeGreaterThan(0);
    expect(all.filter((c) => c.resolved !== undefined && c.resolved - c.filed > 72 * h).length).toBeGreaterThan(0);
    expect(all.filter((c) => c.ack === undefined).length).toBeGreaterThan(0);
    expect(all.filter((c) => c.ack !== undefined && c.resolved === undefined).length).toBeGreaterThan(0);
    expect(all.every((c) => (c.ack ?? Infinity) >= c.filed && (c.resolved ?? Infinity) > (c.ack ?? -Infinity))).toBe(true);
  });

  it('bills monthly with some overdue invoices, some of them settled later', () => {
    expect(s.overdue.size / (s.byType.PaymentSettled + s.overdue.size)).toBeGreaterThan(0.02);
    expect(s.settledAfterOverdue).toBeGreaterThan(0);
    expect([...s.overdue].some((id) => !s.settled.has(id))).toBe(true);
    expect([...s.settled.values()].every((n) => n === 1)).toBe(true);
  });

  it('generates the default history in a few seconds', () => {
    // Includes serializing and validating every event; informative on a loaded machine.
    console.log(`demo history: ${s.count} events in ${s.ms} ms (with validation)`, s.byType);
    expect(s.ms).toBeLessThan(60_000);
  });
});

describe('generateDemoHistory options', () => {
  it('is deterministic: same seed, same events; another seed, other events', () => {
    const a = JSON.stringify(take(generateDemoHistory({ seed: 42 }), 1000));
    const b = JSON.stringify(take(generateDemoHistory({ seed: 42 }), 1000));
    const c = JSON.stringify(take(generateDemoHistory({ seed: 43 }), 1000));
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('honours a smaller range and customer count, all events valid and inside the range', () => {
    const events = [...generateDemoHistory({ seed: 5, customers: 300, from: '2026-01', to: '2026-03', managers: 3 })];
    expect(events.filter((e) => e.type === 'CustomerRegistered')).toHaveLength(300);
    expect(events.every((e) => validateUpstream(JSON.parse(JSON.stringify(e))).ok)).toBe(true);
    expect(events.every((e) => e.occurredAt >= '2026-01-01' && e.occurredAt < '2026-04-01')).toBe(true);
    const managers = new Set(events.flatMap((e) => (e.type === 'AccountManagerAssigned' ? [e.data.managerId] : [])));
    expect([...managers].sort()).toEqual(['M001', 'M002', 'M003']);
  });

  it('rejects bad options with a clear error', () => {
    expect(() => generateDemoHistory({ from: '2025-9' }).next()).toThrow(/from must be a month YYYY-MM/);
    expect(() => generateDemoHistory({ from: '2026-02', to: '2026-01' }).next()).toThrow(/must not be before/);
    expect(() => generateDemoHistory({ customers: -1 }).next()).toThrow(/customers/);
  });
});

describe('writeDemoNdjson', () => {
  it('streams the same events as NDJSON', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'crm-demo-'));
    try {
      const file = path.join(dir, 'demo.ndjson');
      const options = { seed: 9, customers: 120, from: '2025-10', to: '2026-01' };
      const written = await writeDemoNdjson(file, options);
      const lines = readFileSync(file, 'utf8').split('\n');
      expect(lines.pop()).toBe('');
      expect(lines).toHaveLength(written);
      expect(lines).toEqual([...generateDemoHistory(options)].map((e) => JSON.stringify(e)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects when the file cannot be written', async () => {
    await expect(writeDemoNdjson(path.join(tmpdir(), 'no-such-dir-crm-demo', 'x.ndjson'), { customers: 5 })).rejects.toThrow(/ENOENT/);
  });
});

describe('uuidV5', () => {
  it('matches the RFC test vector', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });
});

describe('generateCdnowEvents', () => {
  const file = path.resolve(__dirname, '../../../../shared/datasets/CDNOW_master.txt');
  const present = existsSync(file);
  if (!present) {
    it.skip(`CDNOW tests skipped: ${file} is absent`, () => undefined);
    return;
  }

  it('maps the first 5,000 rows to valid, ordered events with a registration before each first purchase', () => {
    const events = [...generateCdnowEvents(file, { maxRows: 5000 })];
    const pickups = events.filter((e) => e.type === 'ShipmentPickedUp');
    expect(pickups).toHaveLength(5000);
    expect(events.every((e) => validateUpstream(JSON.parse(JSON.stringify(e))).ok)).toBe(true);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    for (let i = 1; i < events.length; i++) expect(events[i].occurredAt >= events[i - 1].occurredAt).toBe(true);
    const registered = new Set<string>();
    for (const e of events) {
      if (e.type === 'CustomerRegistered') {
        expect(registered.has(e.customerId)).toBe(false);
        registered.add(e.customerId);
      } else expect(registered.has(e.customerId)).toBe(true);
    }
    // `00001 19970101 1 11.77` is the first data row.
    expect(pickups.find((e) => e.data.waybillNo === 'CDNOW-1')).toEqual({
      eventId: uuidV5('cdnow:row:1', CDNOW_NAMESPACE),
      type: 'ShipmentPickedUp',
      occurredAt: '1997-01-01T12:00:00+08:00',
      customerId: 'CDNOW-1',
      source: 'cdnow',
      data: { waybillNo: 'CDNOW-1', product: 'NEXT_DAY', freightFen: 1177, originCity: '上海', destinationCity: '北京' },
    });
    expect(pickups.every((e) => Number.isInteger(e.data.freightFen))).toBe(true);
    // Deterministic ids: a second read gives the same events.
    expect(take(generateCdnowEvents(file, { maxRows: 5000 }), 200)).toEqual(events.slice(0, 200));
  });

  it('reads the whole file: 69,659 purchases of 23,570 customers', () => {
    let purchases = 0;
    let customers = 0;
    for (const e of generateCdnowEvents(file)) {
      if (e.type === 'ShipmentPickedUp') purchases++;
      else customers++;
    }
    expect(purchases).toBe(69_659);
    expect(customers).toBe(23_570);
  });
});
