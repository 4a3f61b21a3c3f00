import type { DomainEvent } from '@crm/contracts';
import { dayOf, monthOf, parseInstant } from '../calendar';
import { addContribution, countComplaint, CustomerState, OpenComplaint, SHIPMENT_DAYS_CAP } from './state';

/**
 * A copy of `record` with `key` set. Clone, then assign: an object literal with a computed key
 * (`{ ...record, [key]: value }`) is built in slow dictionary mode, which made this the costliest line of evolve.
 */
function withEntry<T>(record: Readonly<Record<string, T>>, key: string, value: T): Record<string, T> {
  const copy = { ...record };
  copy[key] = value;
  return copy;
}

function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

/** Puts `next` in the place of the open complaint `c`, and in the counts. */
function replaceComplaint(s: CustomerState, c: OpenComplaint, next: OpenComplaint): void {
  s.openComplaints = withEntry(s.openComplaints, c.complaintId, next);
  countComplaint(s, c, -1);
  countComplaint(s, next, 1);
}

/**
 * A shallow copy with every field written out: one fixed object shape, allocated in one step (a spread of
 * this many fields costs about twice as much, and evolve runs once per recorded event).
 */
function copyState(s: CustomerState): CustomerState {
  return {
    known: s.known,
    ids: s.ids,
    clock: s.clock,
    tier: s.tier,
    tierSince: s.tierSince,
    stage: s.stage,
    stageSince: s.stageSince,
    lastShipmentAt: s.lastShipmentAt,
    shipmentCount: s.shipmentCount,
    shipmentDays: s.shipmentDays,
    contributions: s.contributions,
    lastClosedMonth: s.lastClosedMonth,
    openComplaints: s.openComplaints,
    complaintsDue: s.complaintsDue,
    complaintsBreached: s.complaintsBreached,
    qualityComplaintsOpen: s.qualityComplaintsOpen,
    overdueInvoices: s.overdueInvoices,
    managerId: s.managerId,
    risk: s.risk,
    riskSignals: s.riskSignals,
    riskSince: s.riskSince,
  };
}

/** Fold one recorded event into the state. Pure: returns a new state, copying only what changes. */
export function evolve(state: CustomerState, event: DomainEvent): CustomerState {
  return evolveAt(state, event, parseInstant(event.at));
}

/** `evolve` for a caller that already has `event.at` as epoch ms (`at` must be parseInstant(event.at)). */
export function evolveAt(state: CustomerState, event: DomainEvent, at: number): CustomerState {
  return evolveOwned(copyState(state), event, at);
}

/**
 * `evolveAt` on a state object that only the caller holds (a copy it made): changes its fields in place
 * instead of copying it once more. The records it refers to may be shared with older states, so those are
 * still replaced, never changed.
 */
export function evolveOwned(s: CustomerState, event: DomainEvent, at: number): CustomerState {
  s.known = true;
  if (at > s.clock) s.clock = at;
  switch (event.type) {
    case 'AccountManagerAssigned':
      s.managerId = event.data.managerId;
      break;
    case 'ShipmentPickedUp': {
      const month = monthOf(at);
      s.contributions = addContribution(s.contributions, month, event.data.freightFen);
      s.shipmentCount += 1;
      if (s.lastShipmentAt === null || at > s.lastShipmentAt) s.lastShipmentAt = at;
      const day = dayOf(at);
      if (s.shipmentDays.length < SHIPMENT_DAYS_CAP && !s.shipmentDays.includes(day)) s.shipmentDays = [...s.shipmentDays, day];
      break;
    }
    case 'ComplaintFiled':
      if (!s.openComplaints[event.data.complaintId]) {
        const c: OpenComplaint = {
          complaintId: event.data.complaintId,
          filedAt: at,
          category: event.data.category,
          source: event.data.source,
          tierAtFiling: s.tier,
          acknowledged: false,
          ackBreached: false,
          resolveBreached: false,
        };
        s.openComplaints = withEntry(s.openComplaints, c.complaintId, c);
        countComplaint(s, c, 1);
      }
      break;
    case 'ComplaintAcknowledged': {
      const c = s.openComplaints[event.data.complaintId];
      if (c) replaceComplaint(s, c, { ...c, acknowledged: true });
      break;
    }
    case 'ComplaintResolved': {
      const c = s.openComplaints[event.data.complaintId];
      if (c) {
        s.openComplaints = without(s.openComplaints, event.data.complaintId);
        countComplaint(s, c, -1);
      }
      break;
    }
    case 'ComplaintSlaBreached': {
      const c = s.openComplaints[event.data.complaintId];
      if (c) replaceComplaint(s, c, event.data.kind === 'ACK' ? { ...c, ackBreached: true } : { ...c, resolveBreached: true });
      break;
    }
    case 'PaymentOverdue':
      s.overdueInvoices = withEntry(s.overdueInvoices, event.data.invoiceId, event.data.amountFen);
      break;
    case 'PaymentSettled':
      if (event.data.invoiceId in s.overdueInvoices) s.overdueInvoices = without(s.overdueInvoices, event.data.invoiceId);
      break;
    case 'TierChanged':
      s.tier = event.data.to;
      s.tierSince = at;
      break;
    case 'MonthClosed':
      if (s.lastClosedMonth === null || event.data.month > s.lastClosedMonth) s.lastClosedMonth = event.data.month;
      break;
    case 'LifecycleStageChanged':
      s.stage = event.data.to;
      s.stageSince = at;
      break;
    case 'ChurnRiskChanged':
      s.risk = event.data.to;
      s.riskSignals = event.data.signals;
      s.riskSince = at;
      break;
    default:
      break;
  }
  if (s.ids !== null && 'eventId' in event) s.ids = s.ids.add(event.eventId);
  return s;
}

/** A stored event back as the domain event the decider recorded (facts keep their upstream eventId as id). */
export function domainEventFromStored(e: { id: string; type: string; data: unknown; metadata: { occurredAt: string; upstreamEventId?: string } }): DomainEvent {
  const base = { type: e.type, at: e.metadata.occurredAt, data: e.data };
  return (e.id === e.metadata.upstreamEventId ? { ...base, eventId: e.id } : base) as DomainEvent;
}
