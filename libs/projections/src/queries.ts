import { TIERS, type RiskLevel, type Stage, type Tier } from '@crm/contracts';
import { addMonths, POLICY_V1 } from '@crm/domain';
import type { Doc, Filter, Sort } from '@crm/read-model';
import { stringify } from 'csv-stringify/sync';
import type { CustomerView } from './customer-view';
import { POSITION_FIELD } from './projection';
import type { ReadSide } from './read-side';
import type { Alert, AlertKind, ComplaintCell, FunnelMonth, PyramidMonth } from './views';

/**
 * The read side's queries: simple finds on materialized views, plus the small aggregation subset every
 * engine runs (complaints over a month range). Any answer here is the same on every read-model adapter.
 */

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

export const MAX_PAGE_SIZE = 200;

function strip<T>(d: Doc): T {
  const { _id, [POSITION_FIELD]: _p, ...rest } = d;
  return rest as T;
}

export async function customer360(rs: ReadSide, customerId: string): Promise<CustomerView | null> {
  const d = await rs.readModel.findById(rs.collection('customers'), customerId);
  if (d === null) return null;
  const { tierRank: _t, riskRank: _r, ...view } = strip<CustomerView & { tierRank: number; riskRank: number }>(d);
  return view;
}

export const PORTFOLIO_SORTS = ['monthToDateFen', 'lastShipmentAt', 'tier', 'name', 'customerId', 'riskLevel'] as const;
export type PortfolioSort = (typeof PORTFOLIO_SORTS)[number];

export interface PortfolioQuery {
  /** null: customers without a manager. */
  managerId: string | null;
  tier?: Tier[];
  stage?: Stage[];
  risk?: RiskLevel[];
  sort?: PortfolioSort;
  order?: 'asc' | 'desc';
  page?: number;
  pageSize?: number;
}

export interface PortfolioItem {
  customerId: string;
  name: string | null;
  tier: Tier;
  tierRank: number;
  stage: Stage | null;
  risk: RiskLevel;
  monthToDateFen: number;
  lastShipmentAt: string | null;
  openComplaints: number;
  overdueFen: number;
}

const SORT_FIELD: Record<PortfolioSort, string> = {
  monthToDateFen: 'monthToDateFen',
  lastShipmentAt: 'lastShipmentAt',
  tier: 'tierRank',
  name: 'name',
  customerId: '_id',
  riskLevel: 'riskRank',
};

export async function portfolio(rs: ReadSide, q: PortfolioQuery): Promise<Page<PortfolioItem>> {
  const filter: Filter = { managerId: q.managerId };
  if (q.tier?.length) filter.tier = { $in: q.tier };
  if (q.stage?.length) filter.stage = { $in: q.stage };
  if (q.risk?.length) filter['risk.level'] = { $in: q.risk };
  const page = Math.max(1, q.page ?? 1);
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, q.pageSize ?? 20));
  const sort: Sort = { [SORT_FIELD[q.sort ?? 'monthToDateFen']]: q.order === 'asc' ? 1 : -1 };
  const c = rs.collection('customers');
  const [docs, total] = await Promise.all([
    rs.readModel.find(c, filter, { sort, skip: (page - 1) * pageSize, limit: pageSize }),
    rs.readModel.count(c, filter),
  ]);
  return { items: docs.map((d) => portfolioItem(d as unknown as CustomerView)), total, page, pageSize };
}

function portfolioItem(v: CustomerView): PortfolioItem {
  return {
    customerId: v.customerId,
    name: v.name,
    tier: v.tier,
    tierRank: TIERS.indexOf(v.tier),
    stage: v.stage,
    risk: v.risk.level,
    monthToDateFen: v.monthToDateFen,
    lastShipmentAt: v.lastShipmentAt,
    openComplaints: v.openComplaints.length,
    overdueFen: v.overdueFen,
  };
}

export interface AlertQuery {
  /** A manager's alerts; undefined: every alert (admin). */
  managerId?: string | null;
  kind?: AlertKind[];
  page?: number;
  pageSize?: number;
}

export async function alerts(rs: ReadSide, q: AlertQuery): Promise<Page<Omit<Alert, '_id'> & { alertId: string }>> {
  const filter: Filter = {};
  if (q.managerId !== undefined) filter.managerId = q.managerId;
  if (q.kind?.length) filter.kind = { $in: q.kind };
  const page = Math.max(1, q.page ?? 1);
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, q.pageSize ?? 50));
  const c = rs.collection('alerts');
  const [docs, total] = await Promise.all([
    rs.readModel.find(c, filter, { sort: { at: -1 }, skip: (page - 1) * pageSize, limit: pageSize }),
    rs.readModel.count(c, filter),
  ]);
  return { items: docs.map((d) => ({ alertId: d._id, ...strip<Omit<Alert, '_id'>>(d) })), total, page, pageSize };
}

/** The target shape of the value pyramid: TRANSIENT+REGULAR 80 %, MIDDLE 15 %, VIP 4 %, PROJECT 1 % of customers. */
export const PYRAMID_SHAPE: { band: string; tiers: Tier[]; targetShare: number }[] = [
  { band: 'TRANSIENT+REGULAR', tiers: ['TRANSIENT', 'REGULAR'], targetShare: 0.8 },
  { band: 'MIDDLE', tiers: ['MIDDLE'], targetShare: 0.15 },
  { band: 'VIP', tiers: ['VIP'], targetShare: 0.04 },
  { band: 'PROJECT', tiers: ['PROJECT'], targetShare: 0.01 },
];

export interface PyramidRow {
  month: string;
  tier: Tier;
  customers: number;
  contributionFen: number;
  customerShare: number;
  contributionShare: number;
}

export interface PyramidReport {
  month: string;
  customers: number;
  contributionFen: number;
  lateFen: number;
  tiers: PyramidRow[];
  shape: { band: string; customerShare: number; targetShare: number; contributionShare: number }[];
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : Math.round((a / b) * 10_000) / 10_000);

export interface MonthRange {
  from?: string;
  to?: string;
}

function monthFilter(r: MonthRange): Filter {
  const m: Record<string, string> = {};
  if (r.from) m.$gte = r.from;
  if (r.to) m.$lte = r.to;
  return Object.keys(m).length === 0 ? {} : { month: m };
}

/** Tier pyramid of each closed month in the range (oldest first). */
export async function pyramid(rs: ReadSide, range: MonthRange = {}): Promise<PyramidReport[]> {
  const docs = (await rs.readModel.find(rs.collection('pyramid'), monthFilter(range), { sort: { month: 1 } })) as unknown as PyramidMonth[];
  return docs.map((d) => {
    const tiers = TIERS.map((tier) => {
      const b = d.tiers[tier] ?? { customers: 0, contributionFen: 0 };
      return { month: d.month, tier, customers: b.customers, contributionFen: b.contributionFen, customerShare: ratio(b.customers, d.customers), contributionShare: ratio(b.contributionFen, d.contributionFen) };
    });
    const shape = PYRAMID_SHAPE.map(({ band, tiers: ts, targetShare }) => {
      const rows = tiers.filter((t) => ts.includes(t.tier));
      const n = rows.reduce((a, t) => a + t.customers, 0);
      const fen = rows.reduce((a, t) => a + t.contributionFen, 0);
      return { band, customerShare: ratio(n, d.customers), targetShare, contributionShare: ratio(fen, d.contributionFen) };
    });
    return { month: d.month, customers: d.customers, contributionFen: d.contributionFen, lateFen: d.lateFen, tiers, shape };
  });
}

export interface FunnelReport {
  month: string;
  /** Customers in each stage at the end of the month. */
  stages: Record<Stage, number>;
  entered: Record<string, number>;
  exited: Record<string, number>;
  transitions: Record<string, number>;
}

const STAGE_LIST: Stage[] = ['ACQUISITION', 'ACTIVATION', 'RETENTION', 'WINBACK', 'LOST'];

/** Lifecycle funnel per month: stage counts at month end (summed from the first month) and the transitions of the month. */
export async function funnel(rs: ReadSide, range: MonthRange = {}): Promise<FunnelReport[]> {
  const docs = (await rs.readModel.find(rs.collection('funnel'), range.to ? { month: { $lte: range.to } } : {}, { sort: { month: 1 } })) as unknown as FunnelMonth[];
  const out: FunnelReport[] = [];
  const stock = Object.fromEntries(STAGE_LIST.map((s) => [s, 0])) as Record<Stage, number>;
  let prev: string | null = null;
  for (const d of docs) {
    // Months without any transition still have customers in stages: emit them too.
    while (prev !== null && addMonths(prev, 1) < d.month) {
      prev = addMonths(prev, 1);
      if (!range.from || prev >= range.from) out.push({ month: prev, stages: { ...stock }, entered: {}, exited: {}, transitions: {} });
    }
    for (const s of STAGE_LIST) stock[s] += (d.entered[s] ?? 0) - (d.exited[s] ?? 0);
    prev = d.month;
    if (!range.from || d.month >= range.from) out.push({ month: d.month, stages: { ...stock }, entered: { ...d.entered }, exited: { ...d.exited }, transitions: { ...d.transitions } });
  }
  return out;
}

export interface ComplaintRow {
  category: string;
  source: string;
  tier: string;
  filed: number;
  breached: number;
  ackBreaches: number;
  resolveBreaches: number;
  breachRate: number;
}

/**
 * Complaints by category × source × tier over the filing months in range, with the SLA-breach rate. The
 * cells are few (months × categories × sources × tiers), so they are summed here after a simple find.
 */
export async function complaints(rs: ReadSide, range: MonthRange = {}): Promise<ComplaintRow[]> {
  const cells = (await rs.readModel.find(rs.collection('complaints'), monthFilter(range))) as unknown as ComplaintCell[];
  const rows = new Map<string, ComplaintRow>();
  for (const c of cells) {
    const key = `${c.category}|${c.source}|${c.tier}`;
    let r = rows.get(key);
    if (r === undefined) rows.set(key, (r = { category: c.category, source: c.source, tier: c.tier, filed: 0, breached: 0, ackBreaches: 0, resolveBreaches: 0, breachRate: 0 }));
    r.filed += c.filed;
    r.breached += c.breached;
    r.ackBreaches += c.ackBreaches;
    r.resolveBreaches += c.resolveBreaches;
  }
  return [...rows.values()]
    .map((r) => ({ ...r, breachRate: ratio(r.breached, r.filed) }))
    .sort((a, b) => a.category.localeCompare(b.category) || a.source.localeCompare(b.source) || TIERS.indexOf(a.tier as Tier) - TIERS.indexOf(b.tier as Tier));
}

export interface ManagerLoadRow {
  managerId: string | null;
  customers: number;
  keyAccounts: number;
  byTier: Record<string, number>;
  overloaded: boolean;
}

/**
 * Customers and key accounts per manager, most loaded first; unassigned customers as managerId null.
 * Counted from the Customer 360 documents (one $group, in the subset every engine runs): a per-manager
 * counter view could not be replayed safely, because it depends on each customer's previous state.
 */
export async function managerLoad(rs: ReadSide): Promise<ManagerLoadRow[]> {
  const groups = await rs.readModel.aggregate(rs.collection('customers'), [{ $group: { _id: { managerId: '$managerId', tier: '$tier' }, n: { $sum: 1 } } }]);
  const keyTiers: readonly string[] = POLICY_V1.accountManagers.keyAccountTiers;
  const max = POLICY_V1.accountManagers.maxKeyAccountsPerManager;
  const rows = new Map<string | null, ManagerLoadRow>();
  for (const g of groups) {
    const { managerId = null, tier } = g._id as { managerId?: string | null; tier: Tier };
    let r = rows.get(managerId);
    if (r === undefined) rows.set(managerId, (r = { managerId, customers: 0, keyAccounts: 0, byTier: Object.fromEntries(TIERS.map((t) => [t, 0])), overloaded: false }));
    const n = g.n as number;
    r.customers += n;
    r.byTier[tier] += n;
    if (keyTiers.includes(tier)) r.keyAccounts += n;
  }
  for (const r of rows.values()) r.overloaded = r.managerId !== null && r.keyAccounts > max;
  return [...rows.values()].sort((a, b) => b.keyAccounts - a.keyAccounts || b.customers - a.customers || String(a.managerId).localeCompare(String(b.managerId)));
}

/** CSV of an analytics view: one header row, one row per record, nested values flattened by the caller. */
export function toCsv(rows: Record<string, unknown>[], columns: string[]): string {
  return stringify(rows, { header: true, columns, cast: { boolean: (b) => (b ? 'true' : 'false') } });
}

export const ANALYTICS_CSV = {
  pyramid: (r: PyramidReport[]) =>
    toCsv(
      r.flatMap((m) => m.tiers.map((t) => ({ ...t, monthCustomers: m.customers, monthContributionFen: m.contributionFen }))),
      ['month', 'tier', 'customers', 'contributionFen', 'customerShare', 'contributionShare', 'monthCustomers', 'monthContributionFen'],
    ),
  funnel: (r: FunnelReport[]) =>
    toCsv(
      r.map((m) => ({
        month: m.month,
        ...Object.fromEntries(STAGE_LIST.map((s) => [s, m.stages[s]])),
        transitions: Object.entries(m.transitions).map(([k, n]) => `${k}:${n}`).join(' '),
      })),
      ['month', ...STAGE_LIST, 'transitions'],
    ),
  complaints: (r: ComplaintRow[]) => toCsv(r as unknown as Record<string, unknown>[], ['category', 'source', 'tier', 'filed', 'breached', 'ackBreaches', 'resolveBreaches', 'breachRate']),
  managerLoad: (r: ManagerLoadRow[]) =>
    toCsv(
      r.map((m) => ({ ...m, managerId: m.managerId ?? '', ...m.byTier })),
      ['managerId', 'customers', 'keyAccounts', ...TIERS, 'overloaded'],
    ),
};
