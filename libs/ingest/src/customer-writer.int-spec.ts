import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { customerDecider, type CustomerCommand, type CustomerDecider } from '@crm/domain';
import { customerStream, SqliteEventStore, streamEvents } from '@crm/event-store';
import { upstream } from '../../../test/support/decider-specification';
import { CommandEnvelope, CustomerWriter } from './customer-writer';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** A shipment fact for a customer, as a command envelope. */
function fact(n: number, customerId: string, extra: { eventIdChecked?: boolean } = {}): CommandEnvelope {
  const command = upstream('ShipmentPickedUp', `2026-01-0${n}T10:00:00+08:00`, { waybillNo: `WB${n}`, product: 'NEXT_DAY', freightFen: 1000 * n, originCity: '深圳', destinationCity: '上海' }, { eventId: id(n), customerId });
  return { customerId, command: { ...command, ...extra } as CustomerCommand };
}

describe('customer writer on a store that refuses an eventId recorded twice (its states keep no eventIds)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-writer-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('checks facts that come unchecked itself: one recorded before, for another customer, and one repeated in the batch are duplicates', async () => {
    const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
    try {
      expect(store.refusesDuplicateEventIds).toBe(true);
      const writer = new CustomerWriter(store);
      expect((await writer.handle([fact(1, 'C1')])).outcomes).toEqual(['recorded']);
      const r = await writer.handle([fact(1, 'C2'), fact(2, 'C1'), fact(2, 'C2'), fact(3, 'C2', { eventIdChecked: true })]);
      expect(r.outcomes).toEqual(['duplicate', 'recorded', 'duplicate', 'recorded']);
      const facts = async (customerId: string) => (await streamEvents(store, customerStream(customerId))).filter((e) => e.type === 'ShipmentPickedUp').map((e) => e.id);
      expect(await facts('C1')).toEqual([id(1), id(2)]);
      expect(await facts('C2')).toEqual([id(3)]);
    } finally {
      await store.close();
    }
  });

  it('decides in place, and a batch whose deciding throws leaves no state decided in part: the next batch decides from the store', async () => {
    const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
    try {
      // Folds the fact into the state it is given, then throws: as if a later rule of the same fact had failed.
      let failOn: string | undefined;
      const failing: CustomerDecider = {
        ...customerDecider,
        decideAndEvolveOwned(command, state) {
          const r = customerDecider.decideAndEvolveOwned(command, state);
          if (command.type === 'RecordFact' && command.event.eventId === failOn) throw new Error('rule failed');
          return r;
        },
      };
      const writer = new CustomerWriter(store, failing);
      const referenceStore = SqliteEventStore.open(join(dir, 'reference.sqlite'));
      const reference = new CustomerWriter(referenceStore);
      for (const w of [writer, reference]) await w.handle([fact(1, 'C1')]);
      failOn = id(2);
      await expect(writer.handle([fact(2, 'C1')])).rejects.toThrow('rule failed');
      failOn = undefined;
      // C1's cached state had taken fact 2's shipment in; decided from it, fact 3 would count two shipments on two days.
      const a = await writer.handle([fact(3, 'C1')]);
      const b = await reference.handle([fact(3, 'C1')]);
      expect(a.appended).toEqual(b.appended);
      const kinds = async (s: SqliteEventStore) => (await streamEvents(s, customerStream('C1'))).map((e) => `${e.type} ${JSON.stringify(e.data)}`);
      expect(await kinds(store)).toEqual(await kinds(referenceStore));
      await referenceStore.close();
    } finally {
      await store.close();
    }
  });
});
