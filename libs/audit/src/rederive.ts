import { DomainEvent, UPSTREAM_TYPES, UpstreamEvent } from '@crm/contracts';
import { CustomerCommand, CustomerDecider, CustomerState, domainEventFromStored, evolve, initialState } from '@crm/domain';
import { derivedEventId, EventStore, Position, StoredEvent } from '@crm/event-store';
import { PERIODS_STREAM } from '@crm/ingest';
import { diffValues } from './diff';

const UPSTREAM: ReadonlySet<string> = new Set(UPSTREAM_TYPES);

/** The events one command recorded, and the command as it can be rebuilt from them. */
export interface RecordedCommand {
  /** The cause every event of the command carries as causationId (upstream eventId, `close:…`, `sweep:…`). */
  cause: string;
  command: CustomerCommand | null;
  recorded: StoredEvent[];
  /** Why the command could not be rebuilt (command is null then). */
  problem?: string;
}

/** The month closes recorded in `periods`, to tell which months were closed when a fact was recorded. */
export class ClosedMonths {
  private constructor(private readonly closes: { month: string; position: Position }[]) {}

  static async read(store: EventStore): Promise<ClosedMonths> {
    const closes: { month: string; position: Position }[] = [];
    for await (const e of store.readStream(PERIODS_STREAM)) closes.push({ month: (e.data as { month: string }).month, position: e.position });
    return new ClosedMonths(closes);
  }

  /** The last month closed for every customer before `position` was recorded. */
  throughAt(position: Position): string | null {
    let m: string | null = null;
    for (const c of this.closes) if (c.position < position && (m === null || c.month > m)) m = c.month;
    return m;
  }
}

/**
 * Splits a customer's stream into the commands that recorded it (consecutive events with one causationId),
 * rebuilding each command: `close:<month>:<id>` a ClosePeriod, `sweep:<asOf>:<id>` a Sweep, anything else the
 * RecordFact of the upstream fact whose id is the cause (its payload as recorded, without the derived `late`).
 */
export function recordedCommands(customerId: string, events: readonly StoredEvent[], closed: ClosedMonths): RecordedCommand[] {
  const groups: RecordedCommand[] = [];
  for (const e of events) {
    const cause = e.metadata.causationId;
    const last = groups[groups.length - 1];
    if (last !== undefined && last.cause === cause) last.recorded.push(e);
    else groups.push({ cause, command: null, recorded: [e] });
  }
  const suffix = `:${customerId}`;
  for (const g of groups) {
    if (g.cause.startsWith('close:') && g.cause.endsWith(suffix)) {
      g.command = { type: 'ClosePeriod', month: g.cause.slice(6, g.cause.length - suffix.length) };
    } else if (g.cause.startsWith('sweep:') && g.cause.endsWith(suffix)) {
      g.command = { type: 'Sweep', asOf: g.cause.slice(6, g.cause.length - suffix.length) };
    } else {
      const fact = g.recorded.find((e) => e.id === g.cause && UPSTREAM.has(e.type));
      if (fact === undefined) {
        g.problem = `no upstream fact with id ${g.cause} among the events it caused`;
        continue;
      }
      const { late: _late, ...data } = fact.data as Record<string, unknown>;
      const event = { eventId: fact.id, type: fact.type, occurredAt: fact.metadata.occurredAt, customerId, data } as unknown as UpstreamEvent;
      if (fact.metadata.source !== undefined) event.source = fact.metadata.source;
      g.command = { type: 'RecordFact', event, closedThrough: closed.throughAt(fact.position) };
    }
  }
  return groups;
}

/** One place where what is recorded is not what the facts and the rules give. */
export interface Difference {
  customerId: string;
  /** The recorded event (or, for a missing one, the id it should have). */
  eventId: string;
  revision: number | null;
  type: string;
  field: string;
  expected: unknown;
  found: unknown;
}

const idOf = (e: DomainEvent, cause: string, k: number): string => ('eventId' in e ? e.eventId : derivedEventId(cause, k));

/** Compares what a command decides now with what it recorded, event by event and field by field. */
export function compareDecided(customerId: string, g: RecordedCommand, decided: readonly DomainEvent[]): Difference[] {
  const out: Difference[] = [];
  for (let k = 0; k < Math.max(decided.length, g.recorded.length); k++) {
    const exp = decided[k];
    const rec = g.recorded[k];
    if (rec === undefined) {
      out.push({ customerId, eventId: idOf(exp, g.cause, k), revision: null, type: exp.type, field: 'event', expected: exp.type, found: '(missing)' });
      continue;
    }
    const at = { customerId, eventId: rec.id, revision: rec.revision, type: rec.type };
    if (exp === undefined) {
      out.push({ ...at, field: 'event', expected: '(none: no rule derives it)', found: rec.type });
      continue;
    }
    const policyVersion = (exp.data as { policyVersion?: number }).policyVersion;
    const expected = { id: idOf(exp, g.cause, k), type: exp.type, occurredAt: exp.at, policyVersion, data: exp.data };
    const found = { id: rec.id, type: rec.type, occurredAt: rec.metadata.occurredAt, policyVersion: rec.metadata.policyVersion, data: rec.data };
    for (const d of diffValues(expected, found)) out.push({ ...at, ...d });
  }
  return out;
}

/**
 * Re-derives one customer's stream: every recorded command decided again, under the decider in force when it
 * was recorded, from the state its recorded events had built; returns every difference. Folding the recorded
 * events (not the re-decided ones) keeps each difference where it arose instead of repeating it downstream.
 */
export function rederiveStream(
  customerId: string,
  events: readonly StoredEvent[],
  closed: ClosedMonths,
  deciderAt: (position: Position) => CustomerDecider,
): Difference[] {
  const out: Difference[] = [];
  let state: CustomerState = initialState();
  for (const g of recordedCommands(customerId, events, closed)) {
    if (g.command === null) {
      const e = g.recorded[0];
      out.push({ customerId, eventId: e.id, revision: e.revision, type: e.type, field: 'causationId', expected: 'the id of an upstream fact, close:… or sweep:…', found: g.problem ?? g.cause });
    } else {
      out.push(...compareDecided(customerId, g, deciderAt(g.recorded[0].position).decide(g.command, state)));
    }
    for (const e of g.recorded) state = evolve(state, domainEventFromStored(e));
  }
  return out;
}
