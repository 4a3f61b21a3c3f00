import { monthOf, parseInstant } from '@crm/domain';
import type { Doc } from '@crm/read-model';
import type { ProjectionSink, ViewProjection } from '../projection';

export interface ComplaintCell {
  _id: string;
  /** Month the complaint was filed (UTC+8). */
  month: string;
  category: string;
  source: string;
  /** Tier at filing (it set the deadlines). */
  tier: string;
  filed: number;
  /** Complaints with at least one missed deadline. */
  breached: number;
  ackBreaches: number;
  resolveBreaches: number;
}

function cell(sink: ProjectionSink, month: string, category: string, source: string, tier: string): Doc | null {
  const id = `${month}|${category}|${source}|${tier}`;
  return sink.counter(id, () => ({ _id: id, month, category, source, tier, filed: 0, breached: 0, ackBreaches: 0, resolveBreaches: 0 }));
}

/** Complaints by filing month × category × source × tier, with SLA breaches. */
export const COMPLAINTS_VIEW: ViewProjection = {
  name: 'complaints',
  version: 1,
  counters: true,
  indexes: [{ month: 1 }],
  onEvent(e, customer, sink) {
    if (e.type === 'ComplaintFiled') {
      const data = e.data as { complaintId: string };
      const c = customer.domainState.openComplaints[data.complaintId];
      // A second filing of an open complaint changes nothing in the domain, and nothing here.
      if (c === undefined || c.filedAt !== parseInstant(e.metadata.occurredAt)) return;
      const d = cell(sink, monthOf(c.filedAt), c.category, c.source, c.tierAtFiling);
      if (d !== null) d.filed = (d.filed as number) + 1;
    } else if (e.type === 'ComplaintSlaBreached') {
      const data = e.data as { complaintId: string; kind: 'ACK' | 'RESOLVE'; dueAt: string; tierAtFiling: string; category: string; source: string };
      const c = customer.domainState.openComplaints[data.complaintId];
      const filedAt = c?.filedAt ?? parseInstant(data.dueAt);
      const d = cell(sink, monthOf(filedAt), data.category, data.source, data.tierAtFiling);
      if (d === null) return;
      if (data.kind === 'ACK') d.ackBreaches = (d.ackBreaches as number) + 1;
      else d.resolveBreaches = (d.resolveBreaches as number) + 1;
      const otherBreached = c !== undefined && (data.kind === 'ACK' ? c.resolveBreached : c.ackBreached);
      if (!otherBreached) d.breached = (d.breached as number) + 1;
    }
  },
};
