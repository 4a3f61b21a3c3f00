import type {
  ComplaintCategory,
  ComplaintSource,
  ExceptionKind,
  Product,
  UpstreamDataOf,
  UpstreamEvent,
  UpstreamType,
} from '@crm/contracts';
import { Calendar, DAY, formatLocal, HOUR } from './calendar';
import { City, COMPLAINT_TEXT, companyName, INDUSTRIES, KEY_CHANNELS, mobile, personName, pickCity, SMALL_CHANNELS } from './names';
import { hash32, Random, UuidSequence } from './random';

/**
 * A seeded, realistic synthetic upstream history for an express-courier customer base (DESIGN §3/§4):
 * a value pyramid of customers joining over time, weekly and seasonal volume (双十一 peak, 春节 dip),
 * churn and win-back, deliveries and exceptions, monthly billing with some overdue invoices, prepaid
 * top-ups, and complaints handled inside or outside their service levels.
 *
 * Deterministic: the same options give the same events, eventIds included. Generated month by month,
 * so memory is bounded by one month of events plus the customer profiles.
 */

export interface DemoOptions {
  /** PRNG seed (any integer). */
  seed?: number;
  /** Number of customers. */
  customers?: number;
  /** First month YYYY-MM. */
  from?: string;
  /** Last month YYYY-MM (inclusive). */
  to?: string;
  /** Number of account managers (M001…). */
  managers?: number;
}

export const DEMO_DEFAULTS: Required<DemoOptions> = { seed: 20251111, customers: 2000, from: '2025-09', to: '2026-10', managers: 25 };

/** The value segment a synthetic customer is drawn from (its typical tier, DESIGN §4.1). */
export type DemoSegment = 'TRANSIENT' | 'REGULAR' | 'MIDDLE' | 'VIP' | 'PROJECT';

type Range = readonly [number, number];

interface SegmentSpec {
  /** Share of the customers that ship (the value pyramid). */
  share: number;
  /** Typical monthly freight in 元, drawn log-uniformly; kept inside the tier band. */
  spendYuan: Range;
  /** Pieces per waybill: big accounts send consolidated bulk shipments (零担), so waybill counts stay bounded. */
  pieces: Range;
  mix: Readonly<Record<Product, number>>;
  complaintsPerMonth: number;
  churn: number;
  pause: number;
  managed: number;
  /** Share billed monthly (月结); the others pay cash or prepay. */
  monthlyBilling: number;
  /** Contract rebate on the invoice, basis points. */
  rebateBp: Range;
  ackHours: Range;
  resolveHours: Range;
  /** SLA of DESIGN §4.3 for this tier: [ack, resolve] hours. */
  sla: Range;
}

const SMALL_MIX: Readonly<Record<Product, number>> = { DEFERRED: 28, NEXT_DAY: 46, NEXT_MORNING: 12, SAME_DAY: 5, FRESH: 7, INTERNATIONAL: 2 };
const BULK_MIX: Readonly<Record<Product, number>> = { DEFERRED: 36, NEXT_DAY: 44, NEXT_MORNING: 10, SAME_DAY: 2, FRESH: 5, INTERNATIONAL: 3 };

export const SEGMENTS: Readonly<Record<DemoSegment, SegmentSpec>> = {
  TRANSIENT: {
    share: 0.56,
    spendYuan: [25, 260],
    pieces: [1, 1],
    mix: SMALL_MIX,
    complaintsPerMonth: 0.03,
    churn: 0.2,
    pause: 0.12,
    managed: 0.55,
    monthlyBilling: 0,
    rebateBp: [0, 0],
    ackHours: [0.5, 30],
    resolveHours: [4, 100],
    sla: [24, 72],
  },
  REGULAR: {
    share: 0.24,
    spendYuan: [340, 1650],
    pieces: [1, 4],
    mix: SMALL_MIX,
    complaintsPerMonth: 0.08,
    churn: 0.16,
    pause: 0.12,
    managed: 0.7,
    monthlyBilling: 0.35,
    rebateBp: [0, 0],
    ackHours: [0.5, 30],
    resolveHours: [4, 100],
    sla: [24, 72],
  },
  MIDDLE: {
    share: 0.15,
    spendYuan: [2500, 8000],
    pieces: [5, 12],
    mix: BULK_MIX,
    complaintsPerMonth: 0.25,
    churn: 0.1,
    pause: 0.1,
    managed: 0.85,
    monthlyBilling: 1,
    rebateBp: [0, 100],
    ackHours: [0.5, 16],
    resolveHours: [4, 80],
    sla: [8, 48],
  },
  VIP: {
    share: 0.04,
    spendYuan: [12_500, 80_000],
    pieces: [15, 45],
    mix: BULK_MIX,
    complaintsPerMonth: 0.6,
    churn: 0.06,
    pause: 0.06,
    managed: 0.92,
    monthlyBilling: 1,
    rebateBp: [100, 200],
    ackHours: [0.3, 6],
    resolveHours: [3, 40],
    sla: [2, 24],
  },
  PROJECT: {
    share: 0.01,
    spendYuan: [125_000, 480_000],
    pieces: [50, 150],
    mix: BULK_MIX,
    complaintsPerMonth: 1.5,
    churn: 0.05,
    pause: 0,
    managed: 0.92,
    monthlyBilling: 1,
    rebateBp: [200, 300],
    ackHours: [0.3, 6],
    resolveHours: [3, 40],
    sla: [2, 24],
  },
};

/** Freight of one piece, 元, by product. */
const BASE_FREIGHT: Readonly<Record<Product, Range>> = {
  DEFERRED: [8, 14],
  NEXT_DAY: [12, 30],
  NEXT_MORNING: [20, 45],
  SAME_DAY: [30, 80],
  FRESH: [25, 60],
  INTERNATIONAL: [90, 350],
};
/** Planned transit, hours after pick-up. */
const TRANSIT_HOURS: Readonly<Record<Product, Range>> = {
  SAME_DAY: [3, 9],
  NEXT_MORNING: [16, 26],
  NEXT_DAY: [18, 32],
  DEFERRED: [40, 96],
  FRESH: [10, 28],
  INTERNATIONAL: [72, 200],
};
const EXCEPTIONS: Readonly<Record<ExceptionKind, number>> = { DELAYED: 50, DAMAGED: 20, LOST: 10, RETURNED: 20 };
const CATEGORIES: Readonly<Record<ComplaintCategory, number>> = { QUALITY_COMPLAINT: 50, QUALITY_SUGGESTION: 30, DEMAND_SUGGESTION: 20 };
const EXCEPTION_CATEGORIES: Readonly<Record<ComplaintCategory, number>> = { QUALITY_COMPLAINT: 85, QUALITY_SUGGESTION: 12, DEMAND_SUGGESTION: 3 };
const SOURCES: Readonly<Record<ComplaintSource, number>> = { HOTLINE_AGENT: 35, DELIVERY_COURIER: 22, PICKUP_COURIER: 18, SORTING_CENTER: 15, OTHER: 10 };
const PREPAID_STEPS_YUAN = [100, 200, 300, 500, 1000, 2000];
/** Pick-up hour of day (Beijing time), weights: mostly business hours 8:00–20:00. */
const HOUR_WEIGHTS = [0, 0, 0, 0, 0, 0, 0, 2, 5, 9, 11, 10, 6, 7, 10, 11, 10, 8, 5, 3, 2, 1, 0, 0];
const HOUR_TOTAL = HOUR_WEIGHTS.reduce((a, b) => a + b, 0);

interface Profile {
  index: number;
  id: string;
  segment: DemoSegment;
  spec: SegmentSpec;
  rng: Random;
  city: City;
  source: string;
  neverShips: boolean;
  joinDay: number;
  joinMonth: number;
  regT: number;
  firstShipDay: number;
  /** Stops shipping for good from this day (Infinity: never). */
  churnDay: number;
  pauseStart: number;
  pauseEnd: number;
  /** Log growth per month. */
  trend: number;
  /** Expected waybills per unit of day factor. */
  rate: number;
  mix: Readonly<Record<Product, number>>;
  monthlyBilling: boolean;
  rebateBp: number;
  prepaid: boolean;
  balanceFen: number;
  /** Freight of the month being generated (billed next month). */
  monthFreight: number;
  registration: UpstreamDataOf<'CustomerRegistered'>;
  /** [time, managerId] assignments. */
  assignments: Array<[number, string]>;
}

interface Pending {
  t: number;
  seq: number;
  event: UpstreamEvent;
}

function resolveOptions(options: DemoOptions): Required<DemoOptions> {
  const o = { ...DEMO_DEFAULTS };
  for (const k of Object.keys(o) as Array<keyof DemoOptions>) if (options[k] !== undefined) (o as Record<string, unknown>)[k] = options[k];
  if (!Number.isInteger(o.seed)) throw new RangeError(`seed must be an integer, got ${o.seed}`);
  if (!Number.isInteger(o.customers) || o.customers < 0 || o.customers > 999_999) throw new RangeError(`customers must be an integer 0..999999, got ${o.customers}`);
  if (!Number.isInteger(o.managers) || o.managers < 0 || o.managers > 999) throw new RangeError(`managers must be an integer 0..999, got ${o.managers}`);
  return o;
}

function meanOf(mix: Readonly<Record<Product, number>>, value: (p: Product) => number): number {
  let w = 0;
  let s = 0;
  for (const p of Object.keys(mix) as Product[]) {
    w += mix[p];
    s += mix[p] * value(p);
  }
  return s / w;
}

/** Business second of day for a pick-up or filing. */
function businessSecond(rng: Random): number {
  let r = rng.float() * HOUR_TOTAL;
  let h = 0;
  while (r >= HOUR_WEIGHTS[h]) r -= HOUR_WEIGHTS[h++];
  return h * HOUR + rng.int(0, HOUR - 1);
}

/** Moves an instant outside 8:00–21:00 to the next morning. */
function daytime(t: number, rng: Random): number {
  const sod = ((t % DAY) + DAY) % DAY;
  if (sod < 8 * HOUR) return t - sod + 8 * HOUR + rng.int(0, 2 * HOUR);
  if (sod >= 21 * HOUR) return t - sod + DAY + 8 * HOUR + rng.int(0, 3 * HOUR);
  return t;
}

/** Holds events until their month is complete, then releases them in occurredAt order. */
class Outbox {
  private readonly buckets: Pending[][];
  private seq = 0;
  private released = 0;
  private readonly ids: UuidSequence;

  constructor(
    private readonly cal: Calendar,
    seed: number,
  ) {
    this.buckets = Array.from({ length: cal.months }, () => []);
    this.ids = new UuidSequence(hash32(seed, 0x1d5));
  }

  emit<T extends UpstreamType>(t: number, c: Profile, type: T, data: UpstreamDataOf<T>, source: string): void {
    const eventId = this.ids.next();
    if (t >= this.cal.endT) return; // after the generated range: not happened yet
    const event = { eventId, type, occurredAt: formatLocal(t), customerId: c.id, source, data } as UpstreamEvent;
    const month = this.cal.monthOf(t);
    if (month < this.released) throw new Error(`demo generator bug: ${type} at ${event.occurredAt} is in a month already released`);
    this.buckets[month].push({ t, seq: this.seq++, event });
  }

  *release(month: number): Generator<UpstreamEvent> {
    const bucket = this.buckets[month];
    this.buckets[month] = [];
    this.released = month + 1;
    bucket.sort((a, b) => a.t - b.t || a.seq - b.seq);
    for (const p of bucket) yield p.event;
  }
}

function assignSegments(n: number, master: Random): Array<DemoSegment | 'NEVER'> {
  const never = Math.round(n * 0.04);
  const shippers = n - never;
  const out: Array<DemoSegment | 'NEVER'> = [];
  const fill = (s: DemoSegment | 'NEVER', k: number): void => {
    for (let i = 0; i < k; i++) out.push(s);
  };
  const project = Math.round(shippers * SEGMENTS.PROJECT.share);
  const vip = Math.round(shippers * SEGMENTS.VIP.share);
  const middle = Math.round(shippers * SEGMENTS.MIDDLE.share);
  const regular = Math.round(shippers * SEGMENTS.REGULAR.share);
  fill('NEVER', never);
  fill('PROJECT', project);
  fill('VIP', vip);
  fill('MIDDLE', middle);
  fill('REGULAR', regular);
  fill('TRANSIENT', Math.max(0, n - out.length));
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(master.float() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function buildProfiles(o: Required<DemoOptions>, cal: Calendar): Profile[] {
  const master = new Random(hash32(o.seed, 0x5e9));
  const segments = assignSegments(o.customers, master);
  const managers = Array.from({ length: o.managers }, (_, i) => `M${String(i + 1).padStart(3, '0')}`);
  const lastJoin = Math.max(0, cal.days - 31);
  return segments.map((drawn, index) => {
    const rng = new Random(hash32(o.seed, index, 0xc057));
    const neverShips = drawn === 'NEVER';
    const segment: DemoSegment = neverShips ? 'TRANSIENT' : drawn;
    const spec = SEGMENTS[segment];
    const key = segment === 'VIP' || segment === 'PROJECT';
    const small = segment === 'TRANSIENT' || segment === 'REGULAR';

    const city = pickCity(rng);
    const individual = segment === 'TRANSIENT' && rng.chance(0.45);
    const industry = individual ? { name: '个人', trade: '' } : rng.pick(INDUSTRIES);
    const registration: UpstreamDataOf<'CustomerRegistered'> = {
      name: individual ? personName(rng) : companyName(rng, city, industry, small),
      industry: industry.name,
      channel: rng.weighted(key || segment === 'MIDDLE' ? KEY_CHANNELS : SMALL_CHANNELS),
      contactPhone: mobile(rng),
      city: city.name,
    };

    // The initial onboarding wave, then steady acquisition over the range.
    const early = rng.chance(key ? 0.6 : 0.4);
    const joinDay = early ? rng.int(0, Math.min(20, cal.days - 1)) : rng.int(0, lastJoin);
    const regT = cal.dayStartT(joinDay) + rng.int(9 * HOUR, 17 * HOUR);
    const firstShipDay = neverShips ? cal.days : joinDay + (rng.chance(key ? 0.5 : 0.35) ? 0 : rng.int(1, key ? 10 : 21));

    let churnDay = Infinity;
    let pauseStart = Infinity;
    let pauseEnd = Infinity;
    if (rng.chance(spec.churn)) churnDay = firstShipDay + rng.int(45, Math.max(45, cal.days - firstShipDay));
    else if (rng.chance(spec.pause)) {
      const start = firstShipDay + rng.int(20, 150);
      const end = start + rng.int(60, 150);
      if (end + 14 <= cal.days) [pauseStart, pauseEnd] = [start, end];
    }
    const r = rng.float();
    const trend = r < 0.2 ? rng.range(0.01, 0.04) : r < 0.35 ? -rng.range(0.01, 0.04) : rng.range(-0.01, 0.01);

    let mix = spec.mix;
    if (industry.name === '生鲜食品') mix = { ...mix, FRESH: 60 };
    if (industry.name === '跨境贸易') mix = { ...mix, INTERNATIONAL: small ? 20 : 35 };
    const meanPieceFen = meanOf(mix, (p) => ((BASE_FREIGHT[p][0] + BASE_FREIGHT[p][1]) / 2) * 100);
    const meanWaybillFen = meanPieceFen * ((spec.pieces[0] + spec.pieces[1]) / 2);
    const monthlyFen = rng.logUniform(spec.spendYuan[0], spec.spendYuan[1]) * 100;
    const monthlyBilling = rng.chance(spec.monthlyBilling);

    const assignments: Array<[number, string]> = [];
    if (managers.length && rng.chance(spec.managed)) {
      const first = rng.pick(managers);
      const delay = rng.chance(0.5) ? rng.int(10 * 60, 3 * HOUR) : rng.int(1, key ? 5 : 20) * DAY + rng.int(-2 * HOUR, 2 * HOUR);
      const at = daytime(regT + delay, rng);
      assignments.push([at, first]);
      if (managers.length > 1 && rng.chance(0.04)) {
        const other = managers.filter((m) => m !== first);
        assignments.push([cal.dayStartT(rng.int(cal.dayOf(at) + 60, cal.days + 60)) + rng.int(9 * HOUR, 18 * HOUR), rng.pick(other)]);
      }
    }

    return {
      index,
      id: `C${String(index + 1).padStart(6, '0')}`,
      segment,
      spec,
      rng,
      city,
      source: `waybill-${city.region}`,
      neverShips,
      joinDay,
      joinMonth: cal.monthOf(regT),
      regT,
      firstShipDay,
      churnDay,
      pauseStart,
      pauseEnd,
      trend,
      rate: monthlyFen / meanWaybillFen / (365.25 / 12),
      mix,
      monthlyBilling,
      rebateBp: rng.int(spec.rebateBp[0], spec.rebateBp[1]),
      prepaid: !monthlyBilling && rng.chance(small ? 0.35 : 0),
      balanceFen: 0,
      monthFreight: 0,
      registration,
      assignments,
    };
  });
}

class MonthWriter {
  private waybillSeq = 0;
  private complaintSeq = 0;

  constructor(
    private readonly cal: Calendar,
    private readonly out: Outbox,
  ) {}

  customerMonth(c: Profile, m: number): void {
    const cal = this.cal;
    const first = cal.monthStartDay[m];
    const end = cal.monthStartDay[m + 1];
    if (c.joinDay >= end) return;
    if (c.joinDay >= first) {
      this.out.emit(c.regT, c, 'CustomerRegistered', c.registration, 'crm-onboarding');
      for (const [t, managerId] of c.assignments) this.out.emit(t, c, 'AccountManagerAssigned', { managerId }, 'crm-onboarding');
    }
    if (m > 0 && c.monthlyBilling && c.monthFreight > 0) this.invoice(c, m - 1, c.monthFreight);
    c.monthFreight = 0;
    if (c.neverShips) return;
    this.shipments(c, m, first, end);
  }

  private active(c: Profile, d: number): number {
    if (d < c.firstShipDay || d >= c.churnDay || (d >= c.pauseStart && d < c.pauseEnd)) return 0;
    return c.churnDay - d <= 45 || (d < c.pauseStart && c.pauseStart - d <= 20) ? 0.5 : 1; // fading before leaving
  }

  private shipments(c: Profile, m: number, first: number, end: number): void {
    const { rng } = c;
    const days: number[] = [];
    const cum: number[] = [];
    let total = 0;
    for (let d = Math.max(first, c.firstShipDay); d < end; d++) {
      const a = this.active(c, d);
      if (a === 0) continue;
      total += a * this.cal.dayFactor[d];
      days.push(d);
      cum.push(total);
    }
    if (!days.length) return;
    const expected = c.rate * total * Math.exp(c.trend * (m - c.joinMonth)) * rng.noise(0.2);
    const n = rng.count(expected);
    if (n === 0) return;
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const x = rng.float() * total;
      let k = 0;
      while (k < cum.length - 1 && cum[k] <= x) k++;
      let t = this.cal.dayStartT(days[k]) + businessSecond(rng);
      if (t <= c.regT + 600) t = c.regT + rng.int(600, 2 * HOUR);
      times.push(t);
    }
    times.sort((a, b) => a - b);
    const picked: Array<[number, string]> = [];
    for (const t of times) picked.push([t, this.shipment(c, t)]);
    const complaints = rng.count(c.spec.complaintsPerMonth);
    for (let i = 0; i < complaints; i++) {
      const [t, waybillNo] = rng.pick(picked);
      const category = rng.weighted(CATEGORIES);
      this.complaint(c, daytime(t + rng.int(2 * HOUR, 72 * HOUR), rng), category, category === 'DEMAND_SUGGESTION' || rng.chance(0.25) ? undefined : waybillNo);
    }
  }

  private shipment(c: Profile, t: number): string {
    const { rng, spec } = c;
    const product = rng.weighted(c.mix);
    const [lo, hi] = BASE_FREIGHT[product];
    const pieces = rng.int(spec.pieces[0], spec.pieces[1]);
    const freightFen = rng.int(lo * 100, hi * 100) * pieces;
    const waybillNo = `YX${String(7_730_000_000_000 + ++this.waybillSeq)}`;
    if (c.prepaid && c.balanceFen < freightFen) {
      const steps = PREPAID_STEPS_YUAN.filter((y) => y * 100 >= freightFen * 3);
      const amountFen = (steps.length ? rng.pick(steps.slice(0, 3)) : Math.ceil((freightFen * 3) / 10_000) * 100) * 100;
      const dayStart = t - (t % DAY); // same day, so never in a month already released
      this.out.emit(Math.max(c.regT + 30, dayStart, t - rng.int(5 * 60, 2 * HOUR)), c, 'PrepaidDeposited', { amountFen }, 'billing');
      c.balanceFen += amountFen;
    }
    c.balanceFen = Math.max(0, c.balanceFen - freightFen);
    c.monthFreight += freightFen;
    const destination = pickCity(rng).name;
    this.out.emit(
      t,
      c,
      'ShipmentPickedUp',
      {
        waybillNo,
        product,
        freightFen,
        originCity: c.city.name,
        destinationCity: product === 'INTERNATIONAL' ? rng.pick(['香港', '东京', '首尔', '新加坡', '洛杉矶', '法兰克福']) : destination,
        weightGrams: pieces * rng.int(200, 4000),
      },
      c.source,
    );

    const [tlo, thi] = TRANSIT_HOURS[product];
    const transit = Math.round(rng.range(tlo, thi) * HOUR);
    const planned = daytime(t + transit, rng);
    if (rng.chance(0.02)) {
      const kind = rng.weighted(EXCEPTIONS);
      const at = t + Math.round(transit * rng.range(0.3, 0.9));
      this.out.emit(at, c, 'ShipmentException', { waybillNo, kind }, c.source);
      if (kind === 'DELAYED') this.out.emit(daytime(planned + rng.int(12 * HOUR, 72 * HOUR), rng), c, 'ShipmentDelivered', { waybillNo, onTime: false }, c.source);
      if (kind === 'DAMAGED') this.out.emit(Math.max(planned, at + HOUR), c, 'ShipmentDelivered', { waybillNo, onTime: rng.chance(0.7) }, c.source);
      if (rng.chance(0.45)) this.complaint(c, daytime(at + rng.int(HOUR, 48 * HOUR), rng), rng.weighted(EXCEPTION_CATEGORIES), waybillNo);
    } else if (rng.chance(0.935)) {
      this.out.emit(planned, c, 'ShipmentDelivered', { waybillNo, onTime: true }, c.source);
    } else {
      this.out.emit(daytime(planned + rng.int(6 * HOUR, 48 * HOUR), rng), c, 'ShipmentDelivered', { waybillNo, onTime: false }, c.source);
    }
    return waybillNo;
  }

  private complaint(c: Profile, t: number, category: ComplaintCategory, waybillNo: string | undefined): void {
    const { rng, spec } = c;
    const date = formatLocal(t).slice(0, 10).replace(/-/g, '');
    const complaintId = `CP${date}${String(++this.complaintSeq).padStart(6, '0')}`;
    const filed: UpstreamDataOf<'ComplaintFiled'> = { complaintId, category, source: rng.weighted(SOURCES) };
    if (waybillNo) filed.waybillNo = waybillNo;
    if (rng.chance(0.85)) filed.description = rng.pick(COMPLAINT_TEXT[category]);
    this.out.emit(t, c, 'ComplaintFiled', filed, 'hotline');
    if (!rng.chance(0.95)) return; // left open, never acknowledged
    const ackH = rng.logUniform(spec.ackHours[0], spec.ackHours[1]);
    this.out.emit(t + Math.round(ackH * HOUR), c, 'ComplaintAcknowledged', { complaintId }, 'hotline');
    if (!rng.chance(0.93)) return; // acknowledged, still open
    const resolveH = Math.max(rng.logUniform(spec.resolveHours[0], spec.resolveHours[1]), ackH + rng.range(0.25, 2));
    const resolved: UpstreamDataOf<'ComplaintResolved'> = { complaintId };
    if (rng.chance(0.9)) {
      const withinSla = ackH <= spec.sla[0] && resolveH <= spec.sla[1];
      resolved.satisfaction = Number(rng.weighted(withinSla ? { '1': 3, '2': 5, '3': 15, '4': 37, '5': 40 } : { '1': 15, '2': 20, '3': 30, '4': 20, '5': 15 }));
    }
    this.out.emit(t + Math.round(resolveH * HOUR), c, 'ComplaintResolved', resolved, 'hotline');
  }

  /** Monthly statement for `period`, settled (or overdue) during the following month. */
  private invoice(c: Profile, period: number, freightFen: number): void {
    const { rng } = c;
    const cal = this.cal;
    const label = cal.monthLabels[period];
    const invoiceId = `INV${label.replace('-', '')}-${c.id}`;
    const amountFen = freightFen - Math.floor((freightFen * c.rebateBp) / 10_000);
    const billingStart = cal.monthStartDay[period + 1];
    const dueDay = billingStart + 14; // the 15th
    if (rng.chance(0.05)) {
      const dueDate = cal.date(dueDay);
      this.out.emit(cal.dayStartT(dueDay + 1) + rng.int(9 * HOUR, 11 * HOUR), c, 'PaymentOverdue', { invoiceId, amountFen, dueDate }, 'billing');
      if (rng.chance(0.6)) {
        const day = dueDay + 1 + rng.int(3, 40);
        this.out.emit(cal.dayStartT(day) + rng.int(9 * HOUR, 18 * HOUR), c, 'PaymentSettled', { invoiceId, amountFen, period: label }, 'billing');
      }
    } else {
      const day = billingStart + rng.int(1, 13);
      this.out.emit(cal.dayStartT(day) + rng.int(9 * HOUR, 18 * HOUR), c, 'PaymentSettled', { invoiceId, amountFen, period: label }, 'billing');
    }
  }
}

/**
 * Generates the synthetic upstream history, ordered by occurredAt (ties in generation order, so each
 * customer's events stay causal). Every event satisfies `validateUpstream`.
 */
export function* generateDemoHistory(options: DemoOptions = {}): Generator<UpstreamEvent> {
  const o = resolveOptions(options);
  const cal = new Calendar(o.from, o.to);
  const profiles = buildProfiles(o, cal);
  const out = new Outbox(cal, o.seed);
  const writer = new MonthWriter(cal, out);
  for (let m = 0; m < cal.months; m++) {
    for (const c of profiles) writer.customerMonth(c, m);
    yield* out.release(m);
  }
}

/** The value segment each synthetic customer was drawn from (for demos and tests; not an upstream fact). */
export function demoSegments(options: DemoOptions = {}): Map<string, DemoSegment | 'NEVER_SHIPS'> {
  const o = resolveOptions(options);
  const cal = new Calendar(o.from, o.to);
  return new Map(buildProfiles(o, cal).map((p) => [p.id, p.neverShips ? 'NEVER_SHIPS' : p.segment]));
}
