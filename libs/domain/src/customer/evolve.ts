import type { DomainEvent } from '@crm/contracts';
import { dayOf, monthOf, parseInstant } from '../calendar';
import { CustomerState, SHIPMENT_DAYS_CAP } from './state';

function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

/** Fold one recorded event into the state. Pure: returns a new state, copying only what changes. */
export function evolve(state: CustomerState, event: DomainEvent): CustomerState {
  return evolveAt(state, event, parseInstant(event.at));
}

/** `evolve` for a caller that already has `event.at` as epoch ms (`at` must be parseInstant(event.at)). */
export function evolveAt(state: CustomerState, event: DomainEvent, at: number): CustomerState {
  const s: CustomerState = { ...state, known: true, clock: at > state.clock ? at : state.clock };
  switch (event.type) {
    case 'AccountManagerAssigned':
      s.managerId = event.data.managerId;
      break;
    case 'ShipmentPickedUp': {
      const month = monthOf(at);
      s.contributions = { ...s.contributions, [month]: (s.contributions[month] ?? 0) + event.data.freightFen };
      s.shipmentCount += 1;
      if (s.lastShipmentAt === null || at > s.lastShipmentAt) s.lastShipmentAt = at;
      const day = dayOf(at);
      if (s.shipmentDays.length < SHIPMENT_DAYS_CAP && !s.shipmentDays.includes(day)) s.shipmentDays = [...s.shipmentDays, day];
      break;
    }
    case 'ComplaintFiled':
      if (!s.openComplaints[event.data.complaintId]) {
        s.openComplaints = {
          ...s.openComplaints,
          [event.data.complaintId]: {
            complaintId: event.data.complaintId,
            filedAt: at,
            category: event.data.category,
            source: event.data.source,
            tierAtFiling: s.tier,
            acknowledged: false,
            ackBreached: false,
            resolveBreached: false,
          },
        };
      }
      break;
    case 'ComplaintAcknowledged': {
      const c = s.openComplaints[event.data.complaintId];
      if (c) s.openComplaints = { ...s.openComplaints, [c.complaintId]: { ...c, acknowledged: true } };
      break;
    }
    case 'ComplaintResolved':
      if (s.openComplaints[event.data.complaintId]) s.openComplaints = without(s.openComplaints, event.data.complaintId);
      break;
    case 'ComplaintSlaBreached': {
      const c = s.openComplaints[event.data.complaintId];
      if (c) {
        const flag = event.data.kind === 'ACK' ? { ackBreached: true } : { resolveBreached: true };
        s.openComplaints = { ...s.openComplaints, [c.complaintId]: { ...c, ...flag } };
      }
      break;
    }
    case 'PaymentOverdue':
      s.overdueInvoices = { ...s.overdueInvoices, [event.data.invoiceId]: event.data.amountFen };
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
  if ('eventId' in event) s.ids = s.ids.add(event.eventId);
  return s;
}

/** A stored event back as the domain event the decider recorded (facts keep their upstream eventId as id). */
export function domainEventFromStored(e: { id: string; type: string; data: unknown; metadata: { occurredAt: string; upstreamEventId?: string } }): DomainEvent {
  const base = { type: e.type, at: e.metadata.occurredAt, data: e.data };
  return (e.id === e.metadata.upstreamEventId ? { ...base, eventId: e.id } : base) as DomainEvent;
}
