import type { DomainEvent, UpstreamEvent, UpstreamType } from '@crm/contracts';
import { CustomerCommand, CustomerDecider, customerDecider, CustomerState, initialState } from '@crm/domain';

/**
 * Given-events / when-command / then-events specifications for the customer decider (after emmett's
 * DeciderSpecification). `given` takes recorded events, or commands that are decided and folded first,
 * which keeps long histories readable.
 */
export function spec(decider: CustomerDecider = customerDecider, initial: CustomerState = initialState()) {
  return {
    given(...history: Array<DomainEvent | CustomerCommand | (DomainEvent | CustomerCommand)[]>) {
      let state: CustomerState = initial;
      for (const item of history.flat(3) as (DomainEvent | CustomerCommand)[]) {
        const events = isCommand(item) ? decider.decide(item, state) : [item];
        for (const e of events) state = decider.evolve(state, e);
      }
      return {
        state,
        when(command: CustomerCommand) {
          const events = decider.decide(command, state);
          let after = state;
          for (const e of events) after = decider.evolve(after, e);
          return {
            events,
            state: after,
            /** The recorded events, exactly. */
            then(expected: DomainEvent[]) {
              expect(events).toEqual(expected);
              return this;
            },
            /** Only the events of these types, compared as partial objects in order. */
            thenOfType(types: DomainEvent['type'][], expected: object[]) {
              expect(events.filter((e) => types.includes(e.type))).toMatchObject(expected);
              return this;
            },
            thenNothing() {
              expect(events).toEqual([]);
              return this;
            },
          };
        },
      };
    },
  };
}

function isCommand(x: DomainEvent | CustomerCommand): x is CustomerCommand {
  return x.type === 'RecordFact' || x.type === 'ClosePeriod' || x.type === 'Sweep';
}

let seq = 0;
/** A valid upstream event for tests; eventIds are unique unless given. */
export function upstream(
  type: UpstreamType,
  occurredAt: string,
  data: Record<string, unknown>,
  opts: { eventId?: string; customerId?: string; closedThrough?: string } = {},
): CustomerCommand {
  seq += 1;
  const eventId = opts.eventId ?? `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`;
  return {
    type: 'RecordFact',
    event: { eventId, type, occurredAt, customerId: opts.customerId ?? 'C1', data } as unknown as UpstreamEvent,
    closedThrough: opts.closedThrough ?? null,
  };
}

let waybill = 0;
export const ship = (occurredAt: string, freightFen: number, opts: { eventId?: string; closedThrough?: string } = {}): CustomerCommand =>
  upstream('ShipmentPickedUp', occurredAt, { waybillNo: `WB${++waybill}`, product: 'NEXT_DAY', freightFen, originCity: '深圳', destinationCity: '上海' }, opts);
export const register = (occurredAt: string, name = '顺达贸易'): CustomerCommand => upstream('CustomerRegistered', occurredAt, { name });
export const close = (month: string): CustomerCommand => ({ type: 'ClosePeriod', month });
export const sweep = (asOf: string): CustomerCommand => ({ type: 'Sweep', asOf });
export const complaint = (occurredAt: string, complaintId: string, category = 'QUALITY_COMPLAINT', source = 'HOTLINE_AGENT'): CustomerCommand =>
  upstream('ComplaintFiled', occurredAt, { complaintId, category, source });
export const ack = (occurredAt: string, complaintId: string): CustomerCommand => upstream('ComplaintAcknowledged', occurredAt, { complaintId });
export const resolve = (occurredAt: string, complaintId: string): CustomerCommand => upstream('ComplaintResolved', occurredAt, { complaintId });
