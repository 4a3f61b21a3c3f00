import { TIERS, type Tier } from '@crm/contracts';
import { formatYuan, POLICY_V1, type Policy } from '@crm/domain';
import type { CustomerView } from '../customer-view';
import type { ViewProjection } from '../projection';

export const ALERT_KINDS = ['DOWNGRADE', 'HIGH_RISK', 'SLA_BREACH', 'WINBACK_CANDIDATE', 'NEAR_NEXT_TIER', 'KEY_ACCOUNT_UNASSIGNED'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface Alert {
  _id: string;
  customerId: string;
  customerName: string | null;
  /** null for key accounts without a manager. */
  managerId: string | null;
  kind: AlertKind;
  tier: Tier;
  /** Business instant the condition arose. */
  at: string | null;
  detail: string;
}

/** Share of the next tier's floor from which a month-to-date contribution counts as "close". */
export const NEAR_NEXT_TIER_SHARE = 0.8;

/**
 * The alerts an account manager should act on for one customer, a pure function of its Customer 360:
 * every alert is a condition that holds now, and disappears when it no longer does.
 */
export function alertsFor(v: CustomerView, policy: Policy = POLICY_V1): Alert[] {
  const out: Alert[] = [];
  const add = (kind: AlertKind, key: string, at: string | null, detail: string) =>
    out.push({ _id: `${v.customerId}:${key}`, customerId: v.customerId, customerName: v.name, managerId: v.managerId, kind, tier: v.tier, at, detail });
  const c = v.lastTierChange;
  if (c !== null && c.rule === 'DOWNGRADE' && c.month === v.lastClosedMonth)
    add('DOWNGRADE', 'DOWNGRADE', c.effectiveAt, `downgraded ${c.from} → ${c.to} at the close of ${c.month}`);
  if (v.risk.level === 'HIGH') add('HIGH_RISK', 'HIGH_RISK', v.risk.since, `churn risk HIGH: ${v.risk.signals.join(', ')}`);
  for (const oc of v.openComplaints)
    if (oc.breached) add('SLA_BREACH', `SLA_BREACH:${oc.complaintId}`, oc.filedAt, `complaint ${oc.complaintId} (${oc.category}) missed its service level`);
  if (v.stage === 'WINBACK') add('WINBACK_CANDIDATE', 'WINBACK_CANDIDATE', v.stageSince, `no shipment since ${v.lastShipmentAt ?? 'never'}`);
  const next = TIERS[TIERS.indexOf(v.tier) + 1] as Tier | undefined;
  const monthOpen = v.asOfMonth !== null && (v.lastClosedMonth === null || v.asOfMonth > v.lastClosedMonth);
  if (next !== undefined && monthOpen) {
    const floor = policy.tierFloorsFen[next];
    if (v.monthToDateFen >= floor * NEAR_NEXT_TIER_SHARE && v.monthToDateFen < floor)
      add('NEAR_NEXT_TIER', `NEAR_NEXT_TIER:${v.asOfMonth}`, v.lastEventAt, `${v.asOfMonth} so far ${formatYuan(v.monthToDateFen)} 元, ${next} from ${formatYuan(floor)} 元`);
  }
  if (v.managerId === null && policy.accountManagers.keyAccountTiers.includes(v.tier))
    add('KEY_ACCOUNT_UNASSIGNED', 'KEY_ACCOUNT_UNASSIGNED', v.tierSince, `${v.tier} customer without an account manager`);
  return out;
}

const same = (a: Alert, b: Alert): boolean =>
  a.managerId === b.managerId && a.at === b.at && a.detail === b.detail && a.tier === b.tier && a.customerName === b.customerName;

/** Open alerts, one document per (customer, condition); cleared conditions are deleted. */
export const ALERTS_VIEW: ViewProjection = {
  name: 'alerts',
  version: 1,
  indexes: [{ managerId: 1, kind: 1 }, { kind: 1 }, { customerId: 1 }],
  perCustomer: true,
  onCustomer({ before, after, stored }, sink) {
    const old = new Map((before !== null ? alertsFor(before) : ((stored ?? []) as unknown as Alert[])).map((a) => [a._id, a]));
    for (const a of alertsFor(after)) {
      const prev = old.get(a._id);
      old.delete(a._id);
      if (prev === undefined || !same(prev, a)) sink.put({ ...a });
      if (prev === undefined) sink.effect('ALERT_RAISED', { ...a });
    }
    for (const id of old.keys()) sink.delete(id);
  },
};
