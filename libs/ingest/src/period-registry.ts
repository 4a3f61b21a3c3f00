import { MONTH } from '@crm/contracts';
import { EventStore, Position } from '@crm/event-store';
import { CustomerWriter } from './customer-writer';
import { derivedEventId } from './event-ids';
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
    let customers = 0;
    let tierChanges = 0;
    let position: Position | null = null;
    let done = 0;
    for await (const batch of customerIdBatches(this.store)) {
      const r = await writer.handle(batch.map((customerId) => ({ customerId, command: { type: 'ClosePeriod', month } })));
      for (const o of r.outcomes) if (o === 'recorded') customers++;
      tierChanges += r.appended.TierChanged ?? 0;
      if (r.position !== null) position = r.position;
      onProgress?.((done += batch.length));
    }
    if (already === null || month > already) {
      const rev = await this.store.streamRevision(PERIODS_STREAM);
      const r = await this.store.append(
        PERIODS_STREAM,
        [{ id: derivedEventId(`period-closed:${month}`, 0), type: 'PeriodClosed', data: { month, customers }, metadata: { correlationId: `close:${month}`, causationId: `close:${month}`, occurredAt: new Date().toISOString(), recordedAt: new Date().toISOString(), schemaVersion: 1 } }],
        rev,
      );
      position = r.position;
      this.closed = month;
    }
    return { month, customers, tierChanges, alreadyClosed: already !== null && month <= already && customers === 0, position: position === null ? null : String(position) };
  }
}

export interface SweepResult {
  asOf: string;
  customers: number;
  changed: number;
  appended: Record<string, number>;
  position: string | null;
}

/** Record, for every customer, the inactivity transitions and SLA breaches due at `asOf` (DESIGN §4.2). */
export async function sweepAll(store: EventStore, writer: CustomerWriter, asOf: string, onProgress?: (customersDone: number) => void): Promise<SweepResult> {
  const result: SweepResult = { asOf, customers: 0, changed: 0, appended: {}, position: null };
  for await (const batch of customerIdBatches(store)) {
    const r = await writer.handle(batch.map((customerId) => ({ customerId, command: { type: 'Sweep', asOf } })));
    result.customers += batch.length;
    for (const o of r.outcomes) if (o === 'recorded') result.changed++;
    for (const [k, n] of Object.entries(r.appended)) result.appended[k] = (result.appended[k] ?? 0) + n;
    if (r.position !== null) result.position = String(r.position);
    onProgress?.(result.customers);
  }
  return result;
}
