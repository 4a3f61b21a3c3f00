import { MONTH } from '@crm/contracts';
import { CustomerCommand, formatInstant, startOfNextMonth } from '@crm/domain';
import { derivedEventId, EventStore } from '@crm/event-store';
import { CustomerWriter } from './customer-writer';
import { customerIdBatches } from './customers';

export const PERIODS_STREAM = 'periods';

export interface PeriodCloseResult {
  month: string;
  customers: number;
  tierChanges: number;
  alreadyClosed: boolean;
  position: string | null;
}

/**
 * Month closes for every customer (DESIGN §4.1) and the record of which months are closed
 * (stream `periods`). A close runs customer by customer and is idempotent, so an interrupted close
 * is finished by running it again; the month counts as closed once every customer has been closed.
 */
export class PeriodRegistry {
  private closed: string | null | undefined;

  constructor(private readonly store: EventStore) {}

  async closedThrough(): Promise<string | null> {
    if (this.closed === undefined) {
      this.closed = null;
      for await (const e of this.store.readStream(PERIODS_STREAM)) {
        const m = (e.data as { month: string }).month;
        if (this.closed === null || m > this.closed) this.closed = m;
      }
    }
    return this.closed;
  }

  async close(month: string, writer: CustomerWriter, onProgress?: (customersDone: number) => void): Promise<PeriodCloseResult> {
    if (!MONTH.test(month)) throw new RangeError(`month must be YYYY-MM, got "${month}"`);
    const already = await this.closedThrough();
    const r = await commandEveryCustomer(this.store, writer, { type: 'ClosePeriod', month }, onProgress);
    let position = r.position;
    if (already === null || month > already) {
      const rev = await this.store.streamRevision(PERIODS_STREAM);
      const appended = await this.store.append(
        PERIODS_STREAM,
        [
          {
            id: derivedEventId(`period-closed:${month}`, 0),
            type: 'PeriodClosed',
            data: { month, customers: r.changed },
            // occurredAt is business time, as on every event: the close takes effect on the 1st of the next month.
            metadata: { correlationId: `close:${month}`, causationId: `close:${month}`, occurredAt: formatInstant(startOfNextMonth(month)), recordedAt: new Date().toISOString(), schemaVersion: 1 },
          },
        ],
        rev,
      );
      position = String(appended.position);
      this.closed = month;
    }
    return { month, customers: r.changed, tierChanges: r.appended.TierChanged ?? 0, alreadyClosed: already !== null && month <= already && r.changed === 0, position };
  }
}

export interface SweepResult {
  asOf: string;
  customers: number;
  changed: number;
  appended: Record<string, number>;
  position: string | null;
}

interface EveryCustomerResult {
  customers: number;
  /** Customers for whom something was recorded. */
  changed: number;
  appended: Record<string, number>;
  position: string | null;
}

/** Runs one command for every customer the store knows, in batches, and tallies what was recorded. */
async function commandEveryCustomer(store: EventStore, writer: CustomerWriter, command: CustomerCommand, onProgress?: (customersDone: number) => void): Promise<EveryCustomerResult> {
  const result: EveryCustomerResult = { customers: 0, changed: 0, appended: {}, position: null };
  for await (const batch of customerIdBatches(store)) {
    const r = await writer.handle(batch.map((customerId) => ({ customerId, command })));
    result.customers += batch.length;
    for (const o of r.outcomes) if (o === 'recorded') result.changed++;
    for (const [k, n] of Object.entries(r.appended)) result.appended[k] = (result.appended[k] ?? 0) + n;
    if (r.position !== null) result.position = String(r.position);
    onProgress?.(result.customers);
  }
  return result;
}

/** Record, for every customer, the inactivity transitions and SLA breaches due at `asOf` (DESIGN §4.2). */
export async function sweepAll(store: EventStore, writer: CustomerWriter, asOf: string, onProgress?: (customersDone: number) => void): Promise<SweepResult> {
  return { asOf, ...(await commandEveryCustomer(store, writer, { type: 'Sweep', asOf }, onProgress)) };
}
