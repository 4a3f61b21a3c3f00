import type { ComplaintCategory, ComplaintSource, RiskLevel, RiskSignal, Stage, Tier } from '@crm/contracts';
import { addContribution, addMonths, contributionOf, CustomerState, dayOf, DEFAULT_POLICIES, formatInstant, IdRegistry, initialState, monthOf, parseInstant, PolicyBook, riskLevel, riskSignals, SHIPMENT_DAYS_CAP, countComplaint, type OpenComplaint } from '@crm/domain';

/** The Customer 360 document (DESIGN §5). Money in fen; instants ISO-8601 in UTC+8. */
export interface CustomerView {
  customerId: string;
  name: string | null;
  industry: string | null;
  channel: string | null;
  city: string | null;
  /** Personal data: masked for analysts. */
  contactPhone: string | null;
  managerId: string | null;
  tier: Tier;
  tierSince: string | null;
  stage: Stage | null;
  stageSince: string | null;
  risk: { level: RiskLevel; signals: RiskSignal[]; since: string | null };
  firstEventAt: string | null;
  lastEventAt: string | null;
  lastShipmentAt: string | null;
  firstShipmentMonth: string | null;
  /** Contribution per month, the last 12 months up to `asOfMonth`. */
  contributionByMonth: { month: string; contributionFen: number }[];
  monthToDateFen: number;
  asOfMonth: string | null;
  lastClosedMonth: string | null;
  /** The latest tier decision (alerts show downgrades taken at the last close). */
  lastTierChange: { month: string; from: Tier; to: Tier; rule: 'UPGRADE' | 'DOWNGRADE'; effectiveAt: string } | null;
  shipments: { total: number; late: number; delivered: number; onTime: number };
  onTimeRate: number | null;
  exceptions: Record<string, number>;
  openComplaints: { complaintId: string; category: ComplaintCategory; source: ComplaintSource; filedAt: string; acknowledged: boolean; breached: boolean }[];
  complaintsFiled: number;
  slaBreaches: number;
  overdueFen: number;
  prepaidFen: number;
  settledFen: number;
  eventCount: number;
  revision: number;
}

const windows = new Map<string, readonly string[]>();
/** The 12 months ending with `month`, oldest first (memoised: every document of a month shares it). */
function lastTwelveMonths(month: string): readonly string[] {
  let w = windows.get(month);
  if (w === undefined) {
    w = Array.from({ length: 12 }, (_, i) => addMonths(month, i - 11));
    windows.set(month, w);
  }
  return w;
}

/** A recorded event as the view needs it. */
export interface ViewInput {
  type: string;
  /** Store position; a builder ignores events at or before the last position it applied (replays change nothing). */
  position?: bigint;
  data: unknown;
  metadata: { occurredAt: string };
  revision: number;
}

/**
 * The event types the fold handles, as small integers: a recorded event's type is a fresh string (read from
 * the store), so each `case 'Name'` compared characters; one Map lookup per event replaces two chains of them.
 */
const T = {
  CustomerRegistered: 1,
  AccountManagerAssigned: 2,
  ShipmentPickedUp: 3,
  ShipmentDelivered: 4,
  ShipmentException: 5,
  ComplaintFiled: 6,
  ComplaintAcknowledged: 7,
  ComplaintResolved: 8,
  ComplaintSlaBreached: 9,
  PrepaidDeposited: 10,
  PaymentOverdue: 11,
  PaymentSettled: 12,
  TierChanged: 13,
  MonthClosed: 14,
  LifecycleStageChanged: 15,
  ChurnRiskChanged: 16,
} as const;
const TYPE_CODES = new Map<string, number>(Object.entries(T));

/**
 * The state a builder starts from: the domain's initial state with one shared, always-empty id registry
 * (the view never registers upstream eventIds: the write side already dropped duplicates) and its own
 * containers (the fold changes them in place).
 */
const INITIAL: CustomerState = { ...initialState(), ids: IdRegistry.empty() };
const initial = (): CustomerState => ({ ...INITIAL, shipmentDays: [], contributions: null, openComplaints: {}, overdueInvoices: {}, riskSignals: [] });

let memoDay = '';
let memoMonth = '';
/**
 * `monthOf` for the day `dayOf` gave (memoised on that string, which dayOf hands out again for the same
 * day: the month is then the same string too, and keys the contributions without a fresh lookup).
 */
function monthOfDay(day: string): string {
  if (day !== memoDay) {
    memoMonth = day.slice(0, 7);
    memoDay = day;
  }
  return memoMonth;
}

/** The open complaint `c` replaced by `next` in place, and in the counts (as the domain's evolve does). */
function replaceOpenComplaint(s: CustomerState, c: OpenComplaint, next: OpenComplaint): void {
  (s.openComplaints as Record<string, unknown>)[c.complaintId] = next;
  countComplaint(s, c, -1);
  countComplaint(s, next, 1);
}

/**
 * `evolveAt` of @crm/domain, in place: the builder owns its state, so it changes it instead of copying it
 * per event (a rebuild folds millions of events; the copies were most of its garbage). Same result as
 * `evolve` field for field, key order included, except `ids` (never filled here): customer-view.int-spec
 * folds generated histories both ways and compares.
 */
function evolveInPlace(s: CustomerState, type: number, d: Record<string, any>, at: number): void {
  s.known = true;
  if (at > s.clock) s.clock = at;
  switch (type) {
    case T.AccountManagerAssigned:
      s.managerId = d.managerId;
      break;
    case T.ShipmentPickedUp: {
      const day = dayOf(at);
      const month = monthOfDay(day);
      s.contributions = addContribution(s.contributions, month, d.freightFen);
      s.shipmentCount += 1;
      if (s.lastShipmentAt === null || at > s.lastShipmentAt) s.lastShipmentAt = at;
      if (s.shipmentDays.length < SHIPMENT_DAYS_CAP && !s.shipmentDays.includes(day)) (s.shipmentDays as string[]).push(day);
      break;
    }
    case T.ComplaintFiled: {
      const open = s.openComplaints as CustomerState['openComplaints'] & Record<string, unknown>;
      if (open[d.complaintId]) break;
      const c: OpenComplaint = {
        complaintId: d.complaintId,
        filedAt: at,
        category: d.category,
        source: d.source,
        tierAtFiling: s.tier,
        acknowledged: false,
        ackBreached: false,
        resolveBreached: false,
      };
      open[d.complaintId] = c;
      countComplaint(s, c, 1);
      break;
    }
    case T.ComplaintAcknowledged: {
      const c = s.openComplaints[d.complaintId];
      // Replaced, not changed: a reader holding the old complaint object keeps what it saw.
      if (c) replaceOpenComplaint(s, c, { ...c, acknowledged: true });
      break;
    }
    case T.ComplaintResolved: {
      const c = s.openComplaints[d.complaintId];
      if (c) {
        delete (s.openComplaints as Record<string, unknown>)[d.complaintId];
        countComplaint(s, c, -1);
      }
      break;
    }
    case T.ComplaintSlaBreached: {
      const c = s.openComplaints[d.complaintId];
      if (c) replaceOpenComplaint(s, c, d.kind === 'ACK' ? { ...c, ackBreached: true } : { ...c, resolveBreached: true });
      break;
    }
    case T.PaymentOverdue:
      (s.overdueInvoices as Record<string, number>)[d.invoiceId] = d.amountFen;
      break;
    case T.PaymentSettled:
      if (d.invoiceId in s.overdueInvoices) delete (s.overdueInvoices as Record<string, number>)[d.invoiceId];
      break;
    case T.TierChanged:
      s.tier = d.to;
      s.tierSince = at;
      break;
    case T.MonthClosed:
      if (s.lastClosedMonth === null || d.month > s.lastClosedMonth) s.lastClosedMonth = d.month;
      break;
    case T.LifecycleStageChanged:
      s.stage = d.to;
      s.stageSince = at;
      break;
    case T.ChurnRiskChanged:
      s.risk = d.to;
      s.riskSignals = d.signals;
      s.riskSince = at;
      break;
    default:
      break;
  }
}

/**
 * Folds a customer's stream into its Customer 360. The domain state does the rules' bookkeeping (the
 * `evolve` of the write side, applied in place); this adds the counters and profile an account manager reads.
 */
export class CustomerViewBuilder {
  private readonly state: CustomerState = initial();
  private readonly v: Omit<CustomerView, 'tier' | 'tierSince' | 'stage' | 'stageSince' | 'risk' | 'lastShipmentAt' | 'contributionByMonth' | 'monthToDateFen' | 'asOfMonth' | 'lastClosedMonth' | 'openComplaints' | 'overdueFen' | 'onTimeRate' | 'firstEventAt' | 'lastEventAt'>;
  /** Complaints filed so far (made at the first one: most customers never complain). */
  private complaintIds: Set<string> | null = null;
  // Instants kept as epoch ms and formatted only when a document is made (a rebuild folds far more events than it writes documents).
  private firstEventMs = Number.NaN;
  private lastEventMs = Number.NEGATIVE_INFINITY;
  /** Position of the last applied event (-1n before any). */
  position = -1n;
  /** Tier the customer held after each closed month's decision (late shipments count in that month's bucket). */
  readonly closedTiers: Record<string, Tier> = {};

  constructor(customerId: string) {
    this.v = {
      customerId,
      name: null,
      industry: null,
      channel: null,
      city: null,
      contactPhone: null,
      managerId: null,
      firstShipmentMonth: null,
      shipments: { total: 0, late: 0, delivered: 0, onTime: 0 },
      exceptions: {},
      complaintsFiled: 0,
      slaBreaches: 0,
      prepaidFen: 0,
      settledFen: 0,
      eventCount: 0,
      revision: -1,
      lastTierChange: null,
    };
  }

  /** The domain state folded so far (read-only; the builder changes it in place as it applies events). */
  get domainState(): CustomerState {
    return this.state;
  }

  apply(e: ViewInput): this {
    if (e.position !== undefined) {
      if (e.position <= this.position) return this;
      this.position = e.position;
    }
    const at = parseInstant(e.metadata.occurredAt);
    const d = e.data as Record<string, any>;
    const type = TYPE_CODES.get(e.type) ?? 0;
    evolveInPlace(this.state, type, d, at);
    const v = this.v;
    v.eventCount++;
    v.revision = e.revision;
    if (Number.isNaN(this.firstEventMs)) this.firstEventMs = at;
    if (at > this.lastEventMs) this.lastEventMs = at;
    switch (type) {
      case T.CustomerRegistered:
        v.name = d.name;
        v.industry = d.industry ?? null;
        v.channel = d.channel ?? null;
        v.city = d.city ?? null;
        v.contactPhone = d.contactPhone ?? null;
        break;
      case T.AccountManagerAssigned:
        v.managerId = d.managerId;
        break;
      case T.ShipmentPickedUp: {
        v.shipments.total++;
        if (d.late) v.shipments.late++;
        const m = monthOfDay(dayOf(at));
        if (v.firstShipmentMonth === null || m < v.firstShipmentMonth) v.firstShipmentMonth = m;
        break;
      }
      case T.ShipmentDelivered:
        v.shipments.delivered++;
        if (d.onTime) v.shipments.onTime++;
        break;
      case T.ShipmentException:
        v.exceptions[d.kind] = (v.exceptions[d.kind] ?? 0) + 1;
        break;
      case T.ComplaintFiled:
        if (this.complaintIds === null) this.complaintIds = new Set();
        if (!this.complaintIds.has(d.complaintId)) {
          this.complaintIds.add(d.complaintId);
          v.complaintsFiled++;
        }
        break;
      case T.ComplaintSlaBreached:
        v.slaBreaches++;
        break;
      case T.PrepaidDeposited:
        v.prepaidFen += d.amountFen;
        break;
      case T.PaymentSettled:
        v.settledFen += d.amountFen;
        break;
      case T.MonthClosed:
        this.closedTiers[d.month] = d.tier;
        break;
      case T.TierChanged:
        v.lastTierChange = { month: d.month, from: d.from, to: d.to, rule: d.rule, effectiveAt: formatInstant(at) };
        break;
    }
    return this;
  }

  /**
   * The document. `asOf` (an instant) sets the month-to-date and the 12-month window and evaluates time-based risk
   * signals under the policy `policies` has in force then; default: the latest event.
   */
  view(asOf?: string, policies: PolicyBook = DEFAULT_POLICIES): CustomerView {
    const s = this.state;
    const asOfMs = asOf !== undefined ? parseInstant(asOf) : Number.isFinite(s.clock) ? s.clock : null;
    const asOfMonth = asOfMs === null ? null : monthOf(asOfMs);
    const months: { month: string; contributionFen: number }[] = [];
    if (asOfMonth !== null) for (const m of lastTwelveMonths(asOfMonth)) months.push({ month: m, contributionFen: contributionOf(s, m) });
    // Without asOf the recorded level and signals stand (changes are recorded when they happen).
    const riskAt = asOfMs === null ? 0 : Math.max(asOfMs, s.clock);
    const signals = asOf !== undefined && asOfMs !== null ? riskSignals(s, riskAt, policies.forInstant(riskAt, monthOf)) : [...s.riskSignals];
    const open = Object.values(s.openComplaints).map((c) => ({
      complaintId: c.complaintId,
      category: c.category,
      source: c.source,
      filedAt: formatInstant(c.filedAt),
      acknowledged: c.acknowledged,
      breached: c.ackBreached || c.resolveBreached,
    }));
    let overdue = 0;
    for (const k in s.overdueInvoices) overdue += s.overdueInvoices[k];
    const v = this.v;
    const sh = v.shipments;
    const tc = v.lastTierChange;
    // One literal with every field, in the document's order: spreading `this.v` and adding fields gave each
    // document its own chain of hidden classes (~14 KB of garbage per document, measured).
    return {
      customerId: v.customerId,
      name: v.name,
      industry: v.industry,
      channel: v.channel,
      city: v.city,
      contactPhone: v.contactPhone,
      managerId: s.managerId,
      firstShipmentMonth: v.firstShipmentMonth,
      shipments: { total: sh.total, late: sh.late, delivered: sh.delivered, onTime: sh.onTime },
      exceptions: { ...v.exceptions },
      complaintsFiled: v.complaintsFiled,
      slaBreaches: v.slaBreaches,
      prepaidFen: v.prepaidFen,
      settledFen: v.settledFen,
      eventCount: v.eventCount,
      revision: v.revision,
      lastTierChange: tc === null ? null : { month: tc.month, from: tc.from, to: tc.to, rule: tc.rule, effectiveAt: tc.effectiveAt },
      firstEventAt: Number.isNaN(this.firstEventMs) ? null : formatInstant(this.firstEventMs),
      lastEventAt: Number.isFinite(this.lastEventMs) ? formatInstant(this.lastEventMs) : null,
      tier: s.tier,
      tierSince: s.tierSince === null ? null : formatInstant(s.tierSince),
      stage: s.stage,
      stageSince: s.stageSince === null ? null : formatInstant(s.stageSince),
      risk: { level: asOf !== undefined ? riskLevel(signals) : s.risk, signals, since: s.riskSince === null ? null : formatInstant(s.riskSince) },
      lastShipmentAt: s.lastShipmentAt === null ? null : formatInstant(s.lastShipmentAt),
      contributionByMonth: months,
      monthToDateFen: asOfMonth === null ? 0 : contributionOf(s, asOfMonth),
      asOfMonth,
      lastClosedMonth: s.lastClosedMonth,
      onTimeRate: sh.delivered === 0 ? null : Math.round((sh.onTime / sh.delivered) * 10_000) / 10_000,
      openComplaints: open,
      overdueFen: overdue,
    };
  }
}
