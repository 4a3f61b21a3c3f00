import { parseUpstreamLine, UpstreamEvent, validateUpstream, Validation } from '@crm/contracts';
import { DuplicateEventIdError, EventStore, Position, WrongExpectedVersionError } from '@crm/event-store';
import { CommandEnvelope, CustomerWriter, HandleResult } from './customer-writer';
import { LINE_BATCHES, NdjsonSource, type RawInput } from './ndjson';

export type { RawInput } from './ndjson';
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
  /** Lines per decide/append batch (default 2,000). */
  batchSize?: number;
  /** Called after each batch with the number of input lines done so far. */
  onProgress?: (linesDone: number) => void;
}


/** Batches appended at a time while the next is decided. */
const IN_FLIGHT = 3;

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
    // One transaction each. Two batches are alive at a time and outlive young-generation collections: measured on
    // 1M events, 5,000 lines gave a peak RSS of 1.07-1.17 GB and 21-23 s of main-thread CPU, 2,000 lines 0.83-0.91 GB
    // and 18-20.6 s at the same wall time; with the store's current layout 1,000 and 4,000 lines were both slower.
    const batchSize = options.batchSize ?? 2_000;
    const closedThrough = await this.periods.closedThrough();
    let position: Position | null = null;
    let done = 0;
    // The batches being appended (a worker thread on SQLite, a network round-trip on EventStoreDB) while the next
    // is validated, decided and turned into JSON; the store queues the newer appends behind the older. Three, so that
    // neither side waits for the other's slower batches or stalls (SQLite's checkpoints, its id index growing). Measured
    // on 1M lines: two were 2-8% faster than one (up to ~60 MB more RSS); three against two, once SQLite committed each
    // batch alone (see GROUP_EVENTS in its store), 12 pairs in ABBA order: 10 faster, -2.89 to +0.60 s, median -1.0 s;
    // ~15 MB more RSS; four were no better than three.
    // A batch in flight keeps its fresh inputs as they came (a line's text, or a parsed value), not its commands, for a
    // redo to validate again: the commands' objects outlived young-generation collections, a line's text is one string.
    // Measured on a 1M-line import, 6 pairs in ABBA order, all faster: -0.02, -0.63, -0.70, -0.84, -0.80, -2.19 s; the
    // main thread's collections 1.09-1.23 s -> 0.83-0.92 s (keeping nothing at all, an upper bound: ~0.1 s less again).
    const inFlight: { inputs: FreshInput[]; commit: Promise<HandleResult>; ids: Set<string> | null; failed: boolean }[] = [];
    // A store that reports the ids of appends in flight itself (SQLite reserves them in its index) spares a Set per batch.
    const trackIds = this.store.reportsPendingEventIds !== true;
    const eventIdChecked = this.store.refusesDuplicateEventIds === true;
    // A store that also refuses every eventId recorded or in flight at append time need not be asked before each
    // batch: a duplicate then fails its batch, which is decided again after a lookup (redo). It is asked for the
    // first batch and, after any duplicate, for the next SCREEN_AFTER_DUPLICATE batches, so that a re-import or a
    // file with duplicates throughout is screened as before and a clean import skips a lookup per line (measured on
    // a 1M-line import, 4 alternating pairs: main-thread CPU -0.56, +0.08, -0.23, -1.22 s).
    const optimistic = eventIdChecked && !trackIds;
    let batchesToScreen = 1;

    const count = (r: HandleResult) => {
      for (const o of r.outcomes) if (o === 'recorded') result.accepted++;
      else result.duplicates++;
      if (r.position !== null && (position === null || r.position > position)) position = r.position;
    };
    const commandsOf = (events: readonly UpstreamEvent[]): CommandEnvelope[] =>
      events.map((event) => ({ customerId: event.customerId, command: { type: 'RecordFact', event, closedThrough, eventIdChecked } }));
    /**
     * Decides and appends a batch again on the store as it is now (the writer reloads the states): facts another
     * writer recorded meanwhile, for any customer, are duplicates now.
     */
    const redo = async (inputs: readonly FreshInput[]): Promise<void> => {
      let commands = commandsOf(inputs.map(validatedAgain));
      for (let attempt = 0; ; attempt++) {
        const known = await this.store.existingEventIds(commands.flatMap((c) => (c.command.type === 'RecordFact' ? [c.command.event.eventId] : [])));
        // Also repeats within the batch: a batch that was not screened can hold one (the store refused the whole append).
        const seen = new Set<string>();
        const rest = commands.filter((c) => c.command.type !== 'RecordFact' || firstSighting(c.command.event.eventId, known, seen));
        result.duplicates += commands.length - rest.length;
        commands = rest;
        if (commands.length === 0) return;
        try {
          count(await this.writer.handle(commands)); // screened just now (marked only where the store refuses an eventId twice)
          return;
        } catch (err) {
          if (!(err instanceof DuplicateEventIdError) || attempt >= MAX_REDO) throw err; // recorded by another writer once more
        }
      }
    };
    /**
     * Waits for the oldest batch in flight. If it met a concurrent writer (a stream moved on, or an eventId recorded
     * meanwhile), every batch after it was decided on states that did not hold.
     */
    const settleOldest = async (): Promise<void> => {
      const f = inFlight.shift() as (typeof inFlight)[number];
      try {
        count(await f.commit);
        return;
      } catch (err) {
        const later = inFlight.splice(0);
        const outcomes = await Promise.allSettled(later.map((l) => l.commit)); // nothing may still write when this returns
        if (!metConcurrentWriter(err)) throw err;
        batchesToScreen = SCREEN_AFTER_DUPLICATE;
        await redo(f.inputs);
        // A later batch that went through shares no stream with it (its expected revisions held); the others are redone in order.
        for (let i = 0; i < later.length; i++) {
          const o = outcomes[i];
          if (o.status === 'fulfilled') count(o.value);
          else if (metConcurrentWriter(o.reason)) await redo(later[i].inputs);
          else throw o.reason;
        }
      }
    };
    /** Runs a batch; it takes the array (emptied once screened, so the raw lines need not outlive a young-generation collection). */
    const step = async (batch: RawInput[]) => {
      const lines = batch.length;
      // The ids of the batches in flight are the ones not yet recorded.
      const askStore = !optimistic || batchesToScreen > 0;
      const { fresh, inputs, known } = await this.screen(batch, options.source, result, trackIds ? inFlight.map((f) => f.ids as Set<string>) : [], askStore);
      if (known > 0) batchesToScreen = SCREEN_AFTER_DUPLICATE;
      else if (batchesToScreen > 0) batchesToScreen--;
      batch.length = 0;
      if (fresh.length > 0) {
        // Screened against the store's ids and the batches in flight, or not asked of a store that refuses them at
        // append: the decider need not check them again when the store refuses an id recorded meanwhile (EventStoreDB
        // does not: a fact another process recorded between this screen and the load of its stream would be recorded twice).
        const commands = commandsOf(fresh);
        // A batch in flight that has failed already (a store that refused an eventId at once) is redone before this
        // one is decided: decided first, on states reloaded without it, this one would record its facts before them.
        if (inFlight.some((f) => f.failed)) while (inFlight.length > 0) await settleOldest();
        const commit = (await this.writer.decide(commands)).commit();
        const flight = { inputs, commit, ids: trackIds ? new Set(fresh.map((e) => e.eventId)) : null, failed: false };
        // Awaited by settleOldest(); this marks it for the next step and keeps the rejection from being reported as unhandled.
        commit.catch(() => (flight.failed = true));
        inFlight.push(flight);
      }
      while (inFlight.length > IN_FLIGHT) await settleOldest();
      done += lines;
      options.onProgress?.(done);
    };

    let batch: RawInput[] = [];
    /** Adds the items to the batch, running a step whenever it is full. */
    const take = async (items: readonly RawInput[]) => {
      for (const item of items) {
        batch.push(item);
        if (batch.length >= batchSize) {
          await step(batch);
          batch = [];
        }
      }
    };
    // Whole chunks from an NDJSON file and plain arrays: no await per line (a promise each, ~1M per import).
    const lineBatches = (input as Partial<NdjsonSource>)[LINE_BATCHES];
    if (typeof lineBatches === 'function') {
      for await (const items of lineBatches.call(input)) await take(items);
    } else if (Array.isArray(input)) {
      await take(input as RawInput[]);
    } else {
      for await (const item of input as AsyncIterable<RawInput>) {
        batch.push(item);
        if (batch.length >= batchSize) {
          await step(batch);
          batch = [];
        }
      }
    }
    if (batch.length) await step(batch);
    while (inFlight.length > 0) await settleOldest();
    result.position = position === null ? null : String(position);
    return result;
  }

  /**
   * Validates a batch (rejections quarantined) and, when `askStore`, drops eventIds repeated in it, in flight, or
   * already recorded; `inputs`: the input of each fresh event; `known`: how many of them the store had. Otherwise the
   * store refuses them at append (a batch with one fails whole and is redone after a lookup), so none is looked for
   * here (measured on the 1M-line import: ~0.2 s of the main thread, the import's limit, for a Set of each batch's ids).
   */
  private async screen(
    batch: RawInput[],
    source: string,
    result: IngestResult,
    inFlightIds: readonly ReadonlySet<string>[],
    askStore: boolean,
  ): Promise<{ fresh: UpstreamEvent[]; inputs: FreshInput[]; known: number }> {
    const valid: UpstreamEvent[] = [];
    const validInputs: FreshInput[] = [];
    const quarantined: Parameters<Quarantine['put']>[0] = [];
    for (const item of batch) {
      const input = 'raw' in item ? item.raw : item.value;
      const v = validated(input);
      if (v.ok) {
        valid.push(v.event);
        validInputs.push(input);
      } else {
        result.rejected++;
        result.rejections.push({ line: item.line, ...(v.eventId !== undefined ? { eventId: v.eventId } : {}), errors: v.errors });
        quarantined.push({ source, line: item.line, eventId: v.eventId, errors: v.errors, raw: 'raw' in item ? item.raw : safeStringify(item.value) });
      }
    }
    this.quarantine.put(quarantined);

    if (!askStore) return { fresh: valid, inputs: validInputs, known: 0 };
    // eventIds are unique across all customers: drop those already recorded, and repeats within the batch.
    const known = await this.store.existingEventIds(valid.map((e) => e.eventId));
    const seen = new Set<string>();
    const fresh: UpstreamEvent[] = [];
    const inputs: FreshInput[] = [];
    for (let i = 0; i < valid.length; i++) {
      const event = valid[i];
      if (inFlight(inFlightIds, event.eventId) || !firstSighting(event.eventId, known, seen)) result.duplicates++;
      else {
        fresh.push(event);
        inputs.push(validInputs[i]);
      }
    }
    return { fresh, inputs, known: known.size };
  }
}

/** An input as it came: a line's text (RawInput.raw) or a parsed value (an upstream event is an object, never a string). */
type FreshInput = unknown;

function validated(input: FreshInput): Validation {
  return typeof input === 'string' ? parseUpstreamLine(input) : validateUpstream(input);
}

/** The event of an input that was valid when screened (validation is pure: it still is). */
function validatedAgain(input: FreshInput): UpstreamEvent {
  const v = validated(input);
  if (!v.ok) throw new Error(`an input valid when screened is not now: ${v.errors.join('; ')}`);
  return v.event;
}

/** Times a batch is redone while other writers keep recording its eventIds first. */
const MAX_REDO = 10;

/** Batches screened against the store after one met a recorded eventId (see `optimistic` in ingest). */
const SCREEN_AFTER_DUPLICATE = 16;

/** An append refused because another writer got there first: the batch can be decided again. */
function metConcurrentWriter(err: unknown): boolean {
  return err instanceof WrongExpectedVersionError || err instanceof DuplicateEventIdError;
}

/** Whether the id is neither recorded (`known`) nor in `seen` yet; it is then added to `seen`. */
function firstSighting(id: string, known: ReadonlySet<string>, seen: Set<string>): boolean {
  if (known.has(id) || seen.has(id)) return false;
  seen.add(id);
  return true;
}

/** Whether one of the sets has the id. */
function inFlight(sets: readonly ReadonlySet<string>[], id: string): boolean {
  for (let i = 0; i < sets.length; i++) if (sets[i].has(id)) return true;
  return false;
}

function safeStringify(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
