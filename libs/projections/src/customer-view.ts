import type { ComplaintCategory, ComplaintSource, DomainEvent, RiskLevel, RiskSignal, Stage, Tier } from '@crm/contracts';
import { addMonths, CustomerState, evolve, formatInstant, initialState, monthOf, parseInstant, POLICY_V1, riskLevel, riskSignals } from '@crm/domain';

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
  metadata: { occurredAt: string; upstreamEventId?: string };
  id: string;
  revision: number;
}

/**
 * Folds a customer's stream into its Customer 360. The domain state does the rules' bookkeeping (the same
 * `evolve` the write side uses); this adds the counters and profile an account manager reads.
 */
export class CustomerViewBuilder {
  private state: CustomerState = initialState();
  private readonly v: Omit<CustomerView, 'tier' | 'tierSince' | 'stage' | 'stageSince' | 'risk' | 'lastShipmentAt' | 'contributionByMonth' | 'monthToDateFen' | 'asOfMonth' | 'lastClosedMonth' | 'openComplaints' | 'overdueFen' | 'onTimeRate' | 'firstEventAt' | 'lastEventAt'>;
  private readonly complaintIds = new Set<string>();
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

  /** The domain state folded so far (read-only). */
  get domainState(): CustomerState {
    return this.state;
  }

  apply(e: ViewInput): this {
    if (e.position !== undefined) {
      if (e.position <= this.position) return this;
      this.position = e.position;
    }
    // Without the upstream eventId: the view needs no duplicate registry (the write side already dropped duplicates).
    this.state = evolve(this.state, { type: e.type, at: e.metadata.occurredAt, data: e.data } as DomainEvent);
    const v = this.v;
    const d = e.data as Record<string, any>;
    v.eventCount++;
    v.revision = e.revision;
    const at = parseInstant(e.metadata.occurredAt);
    if (Number.isNaN(this.firstEventMs)) this.firstEventMs = at;
    if (at > this.lastEventMs) this.lastEventMs = at;
    switch (e.type) {
      case 'CustomerRegistered':
        v.name = d.name;
        v.industry = d.industry ?? null;
        v.channel = d.channel ?? null;
        v.city = d.city ?? null;
        v.contactPhone = d.contactPhone ?? null;
        break;
      case 'AccountManagerAssigned':
        v.managerId = d.managerId;
        break;
      case 'ShipmentPickedUp': {
        v.shipments.total++;
        if (d.late) v.shipments.late++;
        const m = monthOf(at);
        if (v.firstShipmentMonth === null || m < v.firstShipmentMonth) v.firstShipmentMonth = m;
        break;
      }
      case 'ShipmentDelivered':
        v.shipments.delivered++;
        if (d.onTime) v.shipments.onTime++;
        break;
      case 'ShipmentException':
        v.exceptions[d.kind] = (v.exceptions[d.kind] ?? 0) + 1;
        break;
      case 'ComplaintFiled':
        if (!this.complaintIds.has(d.complaintId)) {
          this.complaintIds.add(d.complaintId);
          v.complaintsFiled++;
        }
        break;
      case 'ComplaintSlaBreached':
        v.slaBreaches++;
        break;
      case 'PrepaidDeposited':
        v.prepaidFen += d.amountFen;
        break;
      case 'PaymentSettled':
        v.settledFen += d.amountFen;
        break;
      case 'MonthClosed':
        this.closedTiers[d.month] = d.tier;
        break;
      case 'TierChanged':
        v.lastTierChange = { month: d.month, from: d.from, to: d.to, rule: d.rule, effectiveAt: formatInstant(at) };
        break;
    }
    return this;
  }

  /** The document. `asOf` (an instant) sets the month-to-date and the 12-month window and evaluates time-based risk signals; default: the latest event. */
  view(asOf?: string): CustomerView {
    const s = this.state;
    const asOfMs = asOf !== undefined ? parseInstant(asOf) : Number.isFinite(s.clock) ? s.clock : null;
    const asOfMonth = asOfMs === null ? null : monthOf(asOfMs);
    const months: { month: string; contributionFen: number }[] = [];
    if (asOfMonth !== null) for (const m of lastTwelveMonths(asOfMonth)) months.push({ month: m, contributionFen: s.contributions[m] ?? 0 });
    // Without asOf the recorded level and signals stand (changes are recorded when they happen).
    const signals = asOf !== undefined && asOfMs !== null ? riskSignals(s, Math.max(asOfMs, s.clock), POLICY_V1) : [...s.riskSignals];
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
    const sh = this.v.shipments;
    return {
      ...this.v,
      firstEventAt: Number.isNaN(this.firstEventMs) ? null : formatInstant(this.firstEventMs),
      lastEventAt: Number.isFinite(this.lastEventMs) ? formatInstant(this.lastEventMs) : null,
      shipments: { ...sh },
      lastTierChange: this.v.lastTierChange === null ? null : { ...this.v.lastTierChange },
      exceptions: { ...this.v.exceptions },
      managerId: s.managerId,
      tier: s.tier,
      tierSince: s.tierSince === null ? null : formatInstant(s.tierSince),
      stage: s.stage,
      stageSince: s.stageSince === null ? null : formatInstant(s.stageSince),
      risk: { level: asOf !== undefined ? riskLevel(signals) : s.risk, signals, since: s.riskSince === null ? null : formatInstant(s.riskSince) },
      lastShipmentAt: s.lastShipmentAt === null ? null : formatInstant(s.lastShipmentAt),
      contributionByMonth: months,
      monthToDateFen: asOfMonth === null ? 0 : (s.contributions[asOfMonth] ?? 0),
      asOfMonth,
      lastClosedMonth: s.lastClosedMonth,
      onTimeRate: sh.delivered === 0 ? null : Math.round((sh.onTime / sh.delivered) * 10_000) / 10_000,
      openComplaints: open,
      overdueFen: overdue,
    };
  }
}
