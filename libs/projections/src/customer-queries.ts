import { parseInstant, type PolicyBook } from '@crm/domain';
import { customerStream, CUSTOMER_STREAM_PREFIX, EventStore } from '@crm/event-store';
import { CustomerView, CustomerViewBuilder } from './customer-view';

/** The two clocks of time travel: business time (`asOf`, by occurredAt) and system time (`knownAt`, by recordedAt). */
export interface TimeTravel {
  /** What had happened by then: events whose occurredAt ≤ asOf, wherever they were recorded. */
  asOf?: string;
  /** What the system had recorded by then: events whose recordedAt ≤ knownAt (late data recorded after it left out). */
  knownAt?: string;
}

/**
 * Customer 360 folded from the stream; with `asOf` / `knownAt`, only the events that had occurred / been recorded by
 * then. `policies`: the book whose policy in force at `asOf` evaluates time-based risk signals (default: v1 only).
 */
export async function customerView(store: EventStore, customerId: string, at: TimeTravel = {}, policies?: PolicyBook): Promise<CustomerView | null> {
  const b = new CustomerViewBuilder(customerId);
  const occurredBy = at.asOf === undefined ? Infinity : parseInstant(at.asOf);
  const recordedBy = at.knownAt === undefined ? Infinity : parseInstant(at.knownAt);
  let any = false;
  for await (const e of store.readStream(customerStream(customerId))) {
    if (occurredBy !== Infinity && parseInstant(e.metadata.occurredAt) > occurredBy) continue;
    if (recordedBy !== Infinity && parseInstant(e.metadata.recordedAt) > recordedBy) continue;
    b.apply(e);
    any = true;
  }
  return any ? b.view(at.asOf, policies) : null;
}

/** Every Customer 360, ordered by customer id, from one pass over the store. */
export async function* customerViews(store: EventStore): AsyncGenerator<CustomerView> {
  const builders = new Map<string, CustomerViewBuilder>();
  for await (const e of store.readAll({ streamPrefix: CUSTOMER_STREAM_PREFIX })) {
    let b = builders.get(e.streamId);
    if (!b) builders.set(e.streamId, (b = new CustomerViewBuilder(e.streamId.slice(CUSTOMER_STREAM_PREFIX.length))));
    b.apply(e);
  }
  for (const id of [...builders.keys()].sort()) yield (builders.get(id) as CustomerViewBuilder).view();
}

export const CUSTOMER_CSV_COLUMNS = [
  'customerId', 'name', 'managerId', 'tier', 'tierSince', 'stage', 'stageSince', 'riskLevel', 'riskSignals', 'lastShipmentAt',
  'monthToDateFen', 'shipments', 'onTimeRate', 'openComplaints', 'slaBreaches', 'overdueFen',
] as const;

const csv = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function toCsvRow(v: CustomerView): string {
  return [
    v.customerId, v.name, v.managerId, v.tier, v.tierSince, v.stage, v.stageSince, v.risk.level, v.risk.signals.join(' '), v.lastShipmentAt,
    v.monthToDateFen, v.shipments.total, v.onTimeRate, v.openComplaints.length, v.slaBreaches, v.overdueFen,
  ].map(csv).join(',');
}
