import type { ChurnRiskChangedData, ComplaintSlaBreachedData, LifecycleStageChangedData, MonthClosedData, RiskSignal, TierChangedData } from '@crm/contracts';
import { formatYuan } from '@crm/domain';
import type { StoredEvent } from '@crm/event-store';

export interface Explanation {
  /** Business time it took effect (ISO-8601, UTC+8). */
  at: string;
  eventId: string;
  type: string;
  policyVersion: number | null;
  /** What caused it: the upstream eventId, or the close / sweep command. */
  cause: string;
  text: string;
}

const SIGNAL_TEXT: Record<RiskSignal, string> = {
  INACTIVE_30D: 'no shipment for 30 days',
  CONTRIBUTION_DROP_50: 'monthly contribution down 50% or more on its baseline',
  SLA_BREACHES: 'two or more complaint SLA breaches in 90 days',
  CONTRIBUTION_DROP_30: 'monthly contribution down 30% or more on its baseline',
  SLA_BREACH: 'a complaint SLA breach in 90 days',
  OPEN_QUALITY_COMPLAINT: 'an open quality complaint',
  PAYMENT_OVERDUE: 'an overdue invoice',
};

const day = (iso: string): string => iso.slice(0, 10);

/** One readable line for a derived event, with the inputs that made it fire; null for a fact. */
export function explainEvent(e: StoredEvent, all = false): string | null {
  switch (e.type) {
    case 'TierChanged':
      return (e.data as TierChangedData).reason;
    case 'LifecycleStageChanged': {
      const d = e.data as LifecycleStageChangedData;
      return `${day(d.effectiveAt)} lifecycle ${d.from ?? '(new)'} → ${d.to}: ${d.detail} (policy v${d.policyVersion}, ${d.reason})`;
    }
    case 'ChurnRiskChanged': {
      const d = e.data as ChurnRiskChangedData;
      const why = d.signals.length === 0 ? 'no risk signal any more' : d.signals.map((s) => SIGNAL_TEXT[s] ?? s).join('; ');
      return `${day(d.effectiveAt)} churn risk ${d.from} → ${d.to}: ${why} (policy v${d.policyVersion})`;
    }
    case 'ComplaintSlaBreached': {
      const d = e.data as ComplaintSlaBreachedData;
      return `${day(d.effectiveAt)} complaint ${d.complaintId} (${d.category} from ${d.source}) missed its ${d.kind === 'ACK' ? 'acknowledgement' : 'resolution'} deadline ${d.dueAt} (tier ${d.tierAtFiling} when filed, policy v${d.policyVersion})`;
    }
    case 'MonthClosed': {
      if (!all) return null;
      const d = e.data as MonthClosedData;
      return `${d.month} closed: contribution ${formatYuan(d.contributionFen)}, tier ${d.tier} (policy v${d.policyVersion})`;
    }
    default:
      return all ? `${e.metadata.occurredAt} ${e.type}${(e.data as { late?: boolean }).late ? ' (late: its month was already closed)' : ''}` : null;
  }
}

/** The why-history of a customer: every decision (with `all`, every month close and fact too), oldest first. */
export function explain(events: readonly StoredEvent[], all = false): Explanation[] {
  const out: Explanation[] = [];
  for (const e of events) {
    const text = explainEvent(e, all);
    if (text === null) continue;
    out.push({ at: e.metadata.occurredAt, eventId: e.id, type: e.type, policyVersion: e.metadata.policyVersion ?? null, cause: e.metadata.causationId, text });
  }
  return out;
}
