import { RISK_LEVELS, TIERS } from '@crm/contracts';
import type { ViewProjection } from '../projection';

/**
 * Customer 360 and the manager portfolio: one document per customer, `_id` = customerId, with the ranks
 * the portfolio sorts by.
 */
export const CUSTOMERS_VIEW: ViewProjection = {
  name: 'customers',
  version: 1,
  indexes: [{ managerId: 1, tier: 1 }, { managerId: 1, stage: 1 }, { managerId: 1, 'risk.level': 1 }, { tier: 1 }],
  onCustomer({ customerId, after }, sink) {
    sink.put({ _id: customerId, ...after, tierRank: TIERS.indexOf(after.tier), riskRank: RISK_LEVELS.indexOf(after.risk.level) });
  },
};
