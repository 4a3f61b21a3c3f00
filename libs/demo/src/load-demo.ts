import { generateDemoHistory } from './history';
import { addMonths, formatInstant, monthOf, parseInstant, startOfMonth } from '@crm/domain';
import { RawInput, sweepAll, WriteSide } from '@crm/ingest';

export interface DemoResult {
  accepted: number;
  duplicates: number;
  rejected: number;
  closedMonths: string[];
  sweptAsOf: string;
}

/**
 * Loads the seeded demo history the way production would live it: month by month, closing each
 * month once its events are in, then a sweep at the start of the month after the last one.
 */
export async function loadDemo(w: WriteSide, options: { seed?: number; customers?: number; from?: string; to?: string }, log: (m: string) => void = () => {}): Promise<DemoResult> {
  const result: DemoResult = { accepted: 0, duplicates: 0, rejected: 0, closedMonths: [], sweptAsOf: '' };
  let month: string | null = null;
  let pending: RawInput[] = [];
  let line = 0;
  const flush = async () => {
    const r = await w.pipeline.ingest(pending, { source: 'demo' });
    result.accepted += r.accepted;
    result.duplicates += r.duplicates;
    result.rejected += r.rejected;
    pending = [];
  };
  let last: string | null = null;
  for (const event of generateDemoHistory(options)) {
    const m = monthOf(parseInstant(event.occurredAt));
    if (month !== null && m !== month) {
      await flush();
      await w.periods.close(month, w.writer);
      result.closedMonths.push(month);
      log(`demo: ${month} loaded and closed (${result.accepted} events so far)`);
    }
    month = m;
    last = event.occurredAt;
    pending.push({ line: ++line, value: event });
    if (pending.length >= 5000) await flush();
  }
  await flush();
  if (last !== null) {
    // The last month stays open (it is "this month"); sweep at the start of the month after it.
    result.sweptAsOf = formatInstant(startOfMonth(addMonths(monthOf(parseInstant(last)), 1)));
    await sweepAll(w.store, w.writer, result.sweptAsOf);
  }
  return result;
}
