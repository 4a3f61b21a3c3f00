import { parseInstant } from '@crm/domain';
import { customerStream, CUSTOMER_STREAM_PREFIX, EventStore } from '@crm/event-store';
import { CustomerView, CustomerViewBuilder } from './customer-view';

/** Customer 360 folded from the stream; with `asOf`, only what had occurred by then. */
export async function customerView(store: EventStore, customerId: string, asOf?: string): Promise<CustomerView | null> {
  const b = new CustomerViewBuilder(customerId);
  const limit = asOf === undefined ? Infinity : parseInstant(asOf);
  let any = false;
  for await (const e of store.readStream(customerStream(customerId))) {
    if (parseInstant(e.metadata.occurredAt) > limit) continue;
    b.apply(e);
    any = true;
  }
  return any ? b.view(asOf) : null;
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
