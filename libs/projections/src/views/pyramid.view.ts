import { monthOf, parseInstant } from '@crm/domain';
import type { Doc } from '@crm/read-model';
import type { ProjectionSink, ViewProjection } from '../projection';

export interface PyramidMonth {
  _id: string;
  month: string;
  customers: number;
  contributionFen: number;
  tiers: Record<string, { customers: number; contributionFen: number }>;
  /** Freight of shipments that arrived after the month was closed (already inside contributionFen). */
  lateFen: number;
}

function month(sink: ProjectionSink, m: string): Doc | null {
  return sink.counter(m, () => ({ _id: m, month: m, customers: 0, contributionFen: 0, tiers: {}, lateFen: 0 }));
}

function bucket(d: Doc, tier: string): { customers: number; contributionFen: number } {
  const tiers = d.tiers as PyramidMonth['tiers'];
  return (tiers[tier] ??= { customers: 0, contributionFen: 0 });
}

/**
 * The value pyramid per closed month: each customer in the tier its close gave it, with that month's
 * contribution. Late shipments add to the month (in the customer's tier at that close).
 */
export const PYRAMID_VIEW: ViewProjection = {
  name: 'pyramid',
  version: 1,
  counters: true,
  indexes: [],
  onEvent(e, customer, sink) {
    const data = e.data as Record<string, any>;
    if (e.type === 'MonthClosed') {
      const d = month(sink, data.month);
      if (d === null) return;
      const b = bucket(d, data.tier);
      b.customers++;
      b.contributionFen += data.contributionFen;
      d.customers = (d.customers as number) + 1;
      d.contributionFen = (d.contributionFen as number) + data.contributionFen;
    } else if (e.type === 'ShipmentPickedUp' && data.late === true) {
      const m = monthOf(parseInstant(e.metadata.occurredAt));
      const tier = customer.closedTiers[m];
      if (tier === undefined) return; // the customer was not known at that close: it counted as 0 there
      const d = month(sink, m);
      if (d === null) return;
      bucket(d, tier).contributionFen += data.freightFen;
      d.contributionFen = (d.contributionFen as number) + data.freightFen;
      d.lateFen = (d.lateFen as number) + data.freightFen;
    }
  },
};
