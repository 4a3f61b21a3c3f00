import type { Stage, Tier } from '@crm/contracts';
import { createCustomerDecider, CustomerDecider, CustomerState, domainEventFromStored, evolve, initialState, Policy } from '@crm/domain';
import { CUSTOMER_STREAM_PREFIX, EventStore, streamEvents } from '@crm/event-store';
import { PolicyRegistry } from '@crm/ingest';
import { ClosedMonths, recordedCommands } from './rederive';

export interface TierMove {
  month: string;
  current: Tier;
  proposed: Tier;
}

export interface WhatIfCustomer {
  customerId: string;
  /** Every closed month whose tier would differ. */
  months: TierMove[];
  tier: { current: Tier; proposed: Tier };
  stage: { current: Stage | null; proposed: Stage | null };
}

export interface WhatIfReport {
  policy: Policy;
  customers: number;
  /** Customers whose tier in some closed month, or whose stage now, would differ. */
  affected: number;
  /** How many customers' current tier would move, e.g. {"VIP → MIDDLE": 12}. */
  moves: Record<string, number>;
  changes: WhatIfCustomer[];
}

/** The month whatIfPatch lays a proposal from when it names none: the start of history. */
const FROM_THE_START = '0001-01';

/** `whatIf` of a partial policy (JSON) laid over the latest version, from the start of history unless it names effectiveFrom. */
export async function whatIfPatch(store: EventStore, policies: PolicyRegistry, patch: Record<string, unknown>): Promise<WhatIfReport> {
  return whatIf(store, policies, await policies.propose({ effectiveFrom: FROM_THE_START, ...patch }));
}

/**
 * Re-derives every customer's history as if `proposed` had been in force from its effective month on (each
 * command under the book of its time with the proposal laid over it) and reports who would be in another tier,
 * in which closed months, and who would be in another stage now. Records nothing.
 */
export async function whatIf(store: EventStore, policies: PolicyRegistry, proposed: Policy): Promise<WhatIfReport> {
  const closed = await ClosedMonths.read(store);
  const timeline = await policies.timeline();
  const deciders = new Map<number, CustomerDecider>();
  const report: WhatIfReport = { policy: proposed, customers: 0, affected: 0, moves: {}, changes: [] };
  for await (const streamId of store.listStreams(CUSTOMER_STREAM_PREFIX)) {
    const customerId = streamId.slice(CUSTOMER_STREAM_PREFIX.length);
    const events = await streamEvents(store, streamId);
    const currentTiers = new Map<string, Tier>();
    let current: CustomerState = initialState();
    for (const e of events) {
      if (e.type === 'MonthClosed') currentTiers.set((e.data as { month: string }).month, (e.data as { tier: Tier }).tier);
      current = evolve(current, domainEventFromStored(e));
    }
    const proposedTiers = new Map<string, Tier>();
    let state: CustomerState = initialState();
    for (const g of recordedCommands(customerId, events, closed)) {
      if (g.command === null) continue;
      const { adopted, book } = timeline.bookAt(g.recorded[0].position);
      let decider = deciders.get(adopted);
      if (!decider) deciders.set(adopted, (decider = createCustomerDecider(book.with(proposed))));
      const r = decider.decideAndEvolve(g.command, state);
      for (const e of r.events) if (e.type === 'MonthClosed') proposedTiers.set(e.data.month, e.data.tier);
      state = r.state;
    }
    const months: TierMove[] = [];
    for (const month of [...new Set([...currentTiers.keys(), ...proposedTiers.keys()])].sort()) {
      const c = currentTiers.get(month) ?? current.tier;
      const p = proposedTiers.get(month) ?? state.tier;
      if (c !== p) months.push({ month, current: c, proposed: p });
    }
    report.customers++;
    if (months.length > 0 || current.stage !== state.stage || current.tier !== state.tier) {
      report.affected++;
      report.changes.push({ customerId, months, tier: { current: current.tier, proposed: state.tier }, stage: { current: current.stage, proposed: state.stage } });
      if (current.tier !== state.tier) {
        const move = `${current.tier} → ${state.tier}`;
        report.moves[move] = (report.moves[move] ?? 0) + 1;
      }
    }
  }
  return report;
}
