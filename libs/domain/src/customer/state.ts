import type { ComplaintCategory, ComplaintSource, RiskLevel, RiskSignal, Stage, Tier } from '@crm/contracts';
import { IdRegistry } from '../id-registry';

export interface OpenComplaint {
  complaintId: string;
  filedAt: number;
  category: ComplaintCategory;
  source: ComplaintSource;
  tierAtFiling: Tier;
  acknowledged: boolean;
  ackBreached: boolean;
  resolveBreached: boolean;
}

/**
 * What the customer decider needs to know, folded from the customer's recorded events.
 * Treated as immutable: `evolve` returns a new state and copies only what an event changes.
 * Instants are epoch ms.
 */
export interface CustomerState {
  known: boolean;
  /**
   * Upstream eventIds already recorded for this customer (duplicates change nothing); null when the state does not
   * keep them (initialState({ trackEventIds: false })): then every fact must come with RecordFact.eventIdChecked.
   */
  ids: IdRegistry | null;
  /** The latest business instant the customer's history has reached. */
  clock: number;
  tier: Tier;
  tierSince: number | null;
  stage: Stage | null;
  stageSince: number | null;
  lastShipmentAt: number | null;
  shipmentCount: number;
  /** Distinct UTC+8 shipment days, kept only up to a small cap (the rules ask for ≥ 2). */
  shipmentDays: readonly string[];
  /** contribution(M) in fen per month YYYY-MM, newest month first (read it with contributionOf). */
  contributions: MonthContribution | null;
  lastClosedMonth: string | null;
  openComplaints: Readonly<Record<string, OpenComplaint>>;
  /**
   * Counts over openComplaints, kept with it (countComplaint), so that the rules need not walk the record, whose
   * objects are seldom in the CPU cache: the open complaints with a deadline still ahead (slaPending; the decider
   * walks the record only when there are some), with a breach, and of the quality category. Measured on a 1M-line
   * import whose complaints stay open once breached (CPU profiles): nextDue and riskSignals took ~0.9 s of the main
   * thread's ~10 s walking it, ~0.5 s with the counts.
   */
  complaintsDue: number;
  complaintsBreached: number;
  qualityComplaintsOpen: number;
  /** Overdue invoices not yet settled: invoiceId → amount in fen. */
  overdueInvoices: Readonly<Record<string, number>>;
  managerId: string | null;
  risk: RiskLevel;
  riskSignals: readonly RiskSignal[];
  riskSince: number | null;
}

export const SHIPMENT_DAYS_CAP = 8;

/** Whether a deadline of the complaint can still fall due: not once it is resolve-breached and acknowledged or ack-breached. */
export function slaPending(c: OpenComplaint): boolean {
  return !(c.resolveBreached && (c.acknowledged || c.ackBreached));
}

/** Adds (sign 1) or takes out (sign -1) an open complaint's share of the complaint counts of `s` (in place). */
export function countComplaint(s: CustomerState, c: OpenComplaint, sign: 1 | -1): void {
  if (slaPending(c)) s.complaintsDue += sign;
  if (c.ackBreached || c.resolveBreached) s.complaintsBreached += sign;
  if (c.category === 'QUALITY_COMPLAINT') s.qualityComplaintsOpen += sign;
}

export interface InitialStateOptions {
  /**
   * Keep the recorded eventIds (default). A write side whose store refuses an eventId recorded twice, and which
   * checks every fact against the store before deciding, passes false: measured on a 1M-line import, keeping them
   * cost ~1-1.4 s of the main thread's ~11 s and ~35 MB of peak RSS.
   */
  trackEventIds?: boolean;
}

export function initialState(options: InitialStateOptions = {}): CustomerState {
  return {
    known: false,
    ids: options.trackEventIds === false ? null : IdRegistry.empty(),
    clock: Number.NEGATIVE_INFINITY,
    tier: 'TRANSIENT',
    tierSince: null,
    stage: null,
    stageSince: null,
    lastShipmentAt: null,
    shipmentCount: 0,
    shipmentDays: [],
    contributions: null,
    lastClosedMonth: null,
    openComplaints: {},
    complaintsDue: 0,
    complaintsBreached: 0,
    qualityComplaintsOpen: 0,
    overdueInvoices: {},
    managerId: null,
    risk: 'LOW',
    riskSignals: [],
    riskSince: null,
  };
}

/**
 * One month's contribution in a persistent list, newest month first. Recording a shipment allocates one node
 * (the months before it are shared with the previous state) instead of copying every month: evolve does it per
 * shipment, and the rules only ever read the last few months, which sit at the head.
 */
export interface MonthContribution {
  readonly month: string;
  readonly fen: number;
  readonly older: MonthContribution | null;
}

/** contribution(M) in fen: 0 for a month without shipments. */
export function contributionOf(s: { contributions: MonthContribution | null }, month: string): number {
  for (let c = s.contributions; c !== null; c = c.older) {
    if (c.month === month) return c.fen;
    if (c.month < month) return 0;
  }
  return 0;
}

/** The list with `fen` added to `month` (a late month copies only the newer nodes in front of it). */
export function addContribution(list: MonthContribution | null, month: string, fen: number): MonthContribution {
  if (list === null || month > list.month) return { month, fen, older: list };
  if (month === list.month) return { month, fen: list.fen + fen, older: list.older };
  return { month: list.month, fen: list.fen, older: addContribution(list.older, month, fen) };
}

/** Every month's contribution as a record (for tests and reports). */
export function contributionsByMonth(list: MonthContribution | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (let c = list; c !== null; c = c.older) out[c.month] = c.fen;
  return out;
}
