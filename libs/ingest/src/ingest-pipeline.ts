import { parseUpstreamLine, UpstreamEvent, validateUpstream, Validation } from '@crm/contracts';
import { EventStore, Position } from '@crm/event-store';
import { CustomerWriter } from './customer-writer';
import { PeriodRegistry } from './period-registry';
import { Quarantine, Rejection } from './quarantine';

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: number;
  rejections: Rejection[];
  /** Position the store reached with this ingest (read-your-writes), null if nothing was appended. */
  position: string | null;
}

export interface IngestOptions {
  /** Where the input came from (quarantine records it): 'http', 'import:<file>', 'kafka:<topic>'. */
  source: string;
  /** Lines per decide/append batch. */
  batchSize?: number;
  /** Called after each batch with the number of input lines done so far. */
  onProgress?: (linesDone: number) => void;
}

/** One input item: an NDJSON line (string) or an already parsed JSON value. */
export type RawInput = { line: number; raw: string } | { line: number; value: unknown };

/**
 * The one ingest pipeline every source feeds (HTTP, `crm import`, Kafka):
 * parse → validate → drop duplicates → decide per customer → append in batches.
 * Invalid input is rejected with reasons and quarantined; it never stops the rest of the batch and
 * does not reserve its eventId.
 */
export class IngestPipeline {
  constructor(
    private readonly store: EventStore,
    private readonly writer: CustomerWriter,
    private readonly periods: PeriodRegistry,
    private readonly quarantine: Quarantine,
  ) {}

  async ingest(input: AsyncIterable<RawInput> | Iterable<RawInput>, options: IngestOptions): Promise<IngestResult> {
    const result: IngestResult = { accepted: 0, duplicates: 0, rejected: 0, rejections: [], position: null };
    const batchSize = options.batchSize ?? 2000;
    let batch: RawInput[] = [];
    let done = 0;
    let position: Position | null = null;
    const flush = async () => {
      const p = await this.processBatch(batch, options.source, result);
      if (p !== null && (position === null || p > position)) position = p;
      done += batch.length;
      batch = [];
      options.onProgress?.(done);
    };
    for await (const item of input as AsyncIterable<RawInput>) {
      batch.push(item);
      if (batch.length >= batchSize) await flush();
    }
    if (batch.length) await flush();
    result.position = position === null ? null : String(position);
    return result;
  }

  private async processBatch(batch: RawInput[], source: string, result: IngestResult): Promise<Position | null> {
    const valid: { item: RawInput; event: UpstreamEvent }[] = [];
    const quarantined: Parameters<Quarantine['put']>[0] = [];
    for (const item of batch) {
      const v: Validation = 'raw' in item ? parseUpstreamLine(item.raw) : validateUpstream(item.value);
      if (v.ok) valid.push({ item, event: v.event });
      else {
        result.rejected++;
        result.rejections.push({ line: item.line, ...(v.eventId !== undefined ? { eventId: v.eventId } : {}), errors: v.errors });
        quarantined.push({ source, line: item.line, eventId: v.eventId, errors: v.errors, raw: 'raw' in item ? item.raw : safeStringify(item.value) });
      }
    }
    this.quarantine.put(quarantined);

    // eventIds are unique across all customers: drop those already recorded, and repeats within the batch.
    const known = await this.store.existingEventIds(valid.map((v) => v.event.eventId));
    const seen = new Set<string>();
    const fresh: UpstreamEvent[] = [];
    for (const { event } of valid) {
      if (known.has(event.eventId) || seen.has(event.eventId)) result.duplicates++;
      else {
        seen.add(event.eventId);
        fresh.push(event);
      }
    }
    if (fresh.length === 0) return null;
    const closedThrough = await this.periods.closedThrough();
    const { outcomes, position } = await this.writer.handle(fresh.map((event) => ({ customerId: event.customerId, command: { type: 'RecordFact', event, closedThrough } })));
    for (const o of outcomes) if (o === 'recorded') result.accepted++;
    else result.duplicates++;
    return position;
  }
}

function safeStringify(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
