import { RISK_LEVELS, TIERS } from '@crm/contracts';
import type { Doc } from '@crm/read-model';
import type { CustomerView } from '../customer-view';
import type { ViewProjection } from '../projection';

/** A document of the customers view: the Customer 360 with its id and the ranks the portfolio sorts by. */
type CustomerDoc = CustomerView & { _id: string; tierRank: number; riskRank: number };

/**
 * Customer 360 and the manager portfolio: one document per customer, `_id` = customerId, with the ranks
 * the portfolio sorts by.
 */
export const CUSTOMERS_VIEW: ViewProjection = {
  name: 'customers',
  version: 1,
  indexes: [{ managerId: 1, tier: 1 }, { managerId: 1, stage: 1 }, { managerId: 1, 'risk.level': 1 }, { tier: 1 }],
  onCustomer({ customerId, after: a }, sink) {
    // Every field named (the type makes sure none is missing): `{ _id, ...after }` gave each document its own
    // hidden classes, which cost more than the rest of a rebuild. Nested objects are shared with `after`
    // (the store freezes them; nobody changes a view once made).
    const doc: CustomerDoc = {
      _id: customerId,
      customerId: a.customerId,
      name: a.name,
      industry: a.industry,
      channel: a.channel,
      city: a.city,
      contactPhone: a.contactPhone,
      managerId: a.managerId,
      firstShipmentMonth: a.firstShipmentMonth,
      shipments: a.shipments,
      exceptions: a.exceptions,
      complaintsFiled: a.complaintsFiled,
      slaBreaches: a.slaBreaches,
      prepaidFen: a.prepaidFen,
      settledFen: a.settledFen,
      eventCount: a.eventCount,
      revision: a.revision,
      lastTierChange: a.lastTierChange,
      firstEventAt: a.firstEventAt,
      lastEventAt: a.lastEventAt,
      tier: a.tier,
      tierSince: a.tierSince,
      stage: a.stage,
      stageSince: a.stageSince,
      risk: a.risk,
      lastShipmentAt: a.lastShipmentAt,
      contributionByMonth: a.contributionByMonth,
      monthToDateFen: a.monthToDateFen,
      asOfMonth: a.asOfMonth,
      lastClosedMonth: a.lastClosedMonth,
      onTimeRate: a.onTimeRate,
      openComplaints: a.openComplaints,
      overdueFen: a.overdueFen,
      tierRank: TIERS.indexOf(a.tier),
      riskRank: RISK_LEVELS.indexOf(a.risk.level),
    };
    sink.put(doc as unknown as Doc);
  },
};
