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
  /** Upstream eventIds already recorded for this customer (duplicates change nothing). */
  ids: IdRegistry;
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
  /** contribution(M) in fen per month YYYY-MM. */
  contributions: Readonly<Record<string, number>>;
  lastClosedMonth: string | null;
  openComplaints: Readonly<Record<string, OpenComplaint>>;
  /** Overdue invoices not yet settled: invoiceId → amount in fen. */
  overdueInvoices: Readonly<Record<string, number>>;
  managerId: string | null;
  risk: RiskLevel;
  riskSignals: readonly RiskSignal[];
  riskSince: number | null;
}

export const SHIPMENT_DAYS_CAP = 8;

export function initialState(): CustomerState {
  return {
    known: false,
    ids: IdRegistry.empty(),
    clock: Number.NEGATIVE_INFINITY,
    tier: 'TRANSIENT',
    tierSince: null,
    stage: null,
    stageSince: null,
    lastShipmentAt: null,
    shipmentCount: 0,
    shipmentDays: [],
    contributions: {},
    lastClosedMonth: null,
    openComplaints: {},
    overdueInvoices: {},
    managerId: null,
    risk: 'LOW',
    riskSignals: [],
    riskSince: null,
  };
}

export const contributionOf = (s: CustomerState, month: string): number => s.contributions[month] ?? 0;
