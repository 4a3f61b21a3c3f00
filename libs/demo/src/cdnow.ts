import { readFileSync } from 'fs';
import type { UpstreamEvent } from '@crm/contracts';
import { uuidV5 } from './random';

/** Namespace of the name-based (v5) eventIds of the CDNOW import. */
export const CDNOW_NAMESPACE = '5b3f0f5e-2c1a-4d7e-9a61-0c0d4e0a7c01';

export interface CdnowOptions {
  /** Read only the first N purchase rows of the file (in file order). */
  maxRows?: number;
}

interface Row {
  row: number;
  customer: string;
  date: string;
  fen: number;
}

/**
 * Maps the CDNOW transaction log (DESIGN §6; columns: customer id, date YYYYMMDD, number of CDs,
 * dollar value) onto the upstream contract: one `ShipmentPickedUp` per row (customer
 * `CDNOW-<id without leading zeros>`, 12:00 Beijing time on that date, freight = dollars × 100 fen,
 * product NEXT_DAY, waybill `CDNOW-<row>` numbered from 1 over the data rows), preceded by a
 * `CustomerRegistered` at 11:59 on the customer's first purchase date. Output is in date order
 * (registrations of a day before its purchases); eventIds are UUID v5 of the row, so re-importing the
 * file is idempotent. A header line is skipped; any other line that does not parse is an error.
 */
export function* generateCdnowEvents(filePath: string, options: CdnowOptions = {}): Generator<UpstreamEvent> {
  const max = options.maxRows ?? Infinity;
  const rows: Row[] = [];
  const lines = readFileSync(filePath, 'utf8').split(/\r?\n/);
  for (let i = 0; i < lines.length && rows.length < max; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const cols = line.split(/\s+/);
    if (rows.length === 0 && !/^\d/.test(cols[0])) continue; // header
    const [id, date, , dollars] = cols;
    if (cols.length < 4 || !/^\d+$/.test(id) || !/^\d{8}$/.test(date) || !/^\d+(\.\d+)?$/.test(dollars)) {
      throw new Error(`${filePath}:${i + 1}: expected "<customer id> <YYYYMMDD> <CDs> <dollars>", got ${JSON.stringify(line)}`);
    }
    rows.push({ row: rows.length + 1, customer: `CDNOW-${String(Number(id))}`, date, fen: Math.round(Number(dollars) * 100) });
  }
  rows.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.row - b.row));

  const known = new Set<string>();
  for (let i = 0; i < rows.length; ) {
    const date = rows[i].date;
    let j = i;
    while (j < rows.length && rows[j].date === date) j++;
    const day = `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`;
    for (let k = i; k < j; k++) {
      const { customer } = rows[k];
      if (known.has(customer)) continue;
      known.add(customer);
      yield {
        eventId: uuidV5(`cdnow:customer:${customer}`, CDNOW_NAMESPACE),
        type: 'CustomerRegistered',
        occurredAt: `${day}T11:59:00+08:00`,
        customerId: customer,
        source: 'cdnow',
        data: { name: `CDNOW 顾客 ${customer.slice(6)}`, channel: 'ONLINE' },
      };
    }
    for (let k = i; k < j; k++) {
      const r = rows[k];
      yield {
        eventId: uuidV5(`cdnow:row:${r.row}`, CDNOW_NAMESPACE),
        type: 'ShipmentPickedUp',
        occurredAt: `${day}T12:00:00+08:00`,
        customerId: r.customer,
        source: 'cdnow',
        data: { waybillNo: `CDNOW-${r.row}`, product: 'NEXT_DAY', freightFen: r.fen, originCity: '上海', destinationCity: '北京' },
      };
    }
    i = j;
  }
}
