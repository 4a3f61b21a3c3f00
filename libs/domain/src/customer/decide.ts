import type { DomainEvent, LifecycleStageChangedData, Stage, StageChangeReason, Tier, UpstreamEvent } from '@crm/contracts';
import { addMonths, DAY_MS, formatInstant, formatYuan, HOUR_MS, monthOf, parseInstant, startOfNextMonth } from '../calendar';
import { DEFAULT_POLICIES, Policy, PolicyBook, tierFor, tierRank } from '../policy';
import type { ClosePeriod, CustomerCommand, RecordFact } from './commands';
import { evolve, evolveAt, evolveOwned } from './evolve';
import { riskLevel, riskSignals } from './risk';
import { contributionOf, CustomerState, slaPending } from './state';

/** What can become due with the passage of time alone, ordered by when it is due. */
type Due =
  | { kind: 'STAGE'; at: number; to: Stage; reason: StageChangeReason }
  | { kind: 'SLA'; at: number; complaintId: string; breach: 'ACK' | 'RESOLVE' }
  | { kind: 'RISK'; at: number };

const DUE_ORDER = { STAGE: 0, SLA: 1, RISK: 2 } as const;

/** Whether a due (`at`, `kind`) listed after `best` comes before it: strictly earlier, or as early and of an earlier kind. */
function firstDue(at: number, kind: Due['kind'], best: Due): boolean {
  return at < best.at || (at === best.at && DUE_ORDER[kind] < DUE_ORDER[best.kind]);
}

/** Fact types that can change a churn-risk signal (DESIGN §4.4): stage and last shipment, complaints, invoices. */
const RISK_INPUTS: ReadonlySet<string> = new Set(['ShipmentPickedUp', 'ComplaintFiled', 'ComplaintAcknowledged', 'ComplaintResolved', 'PaymentOverdue', 'PaymentSettled']);

export interface CustomerDecider {
  decide(command: CustomerCommand, state: CustomerState): DomainEvent[];
  /** `decide`, plus the state after folding the decided events (saves folding them again). */
  decideAndEvolve(command: CustomerCommand, state: CustomerState): { events: DomainEvent[]; state: CustomerState };
  /**
   * `decideAndEvolve` for a caller that alone holds `state` and no longer needs it as it was: the decided events
   * are folded into it in place (the returned state is `state`) instead of into a copy. The records it refers to
   * may be shared with older states, so those are still replaced, never changed.
   */
  decideAndEvolveOwned(command: CustomerCommand, state: CustomerState): { events: DomainEvent[]; state: CustomerState };
  evolve(state: CustomerState, event: DomainEvent): CustomerState;
  policies: PolicyBook;
}

/**
 * The customer aggregate as a decider (DESIGN §4): `decide(command, state)` returns the events to
 * record — the fact itself and everything it makes due or derives — and `evolve` folds them.
 * No clock: every instant comes from an event, a close's month or a sweep's `asOf`.
 */
export function createCustomerDecider(policies: PolicyBook = DEFAULT_POLICIES): CustomerDecider {
  function decideAndEvolve(command: CustomerCommand, state: CustomerState, owned = false): { events: DomainEvent[]; state: CustomerState } {
    const d = new Decision(state, policies, owned);
    switch (command.type) {
      case 'RecordFact':
        d.recordFact(command);
        break;
      case 'ClosePeriod':
        d.closePeriod(command);
        break;
      case 'Sweep':
        if (d.s.known) d.advanceTo(parseInstant(command.asOf));
        break;
    }
    return { events: d.out, state: d.s };
  }

  return {
    decide: (command, state) => decideAndEvolve(command, state).events,
    decideAndEvolve: (command, state) => decideAndEvolve(command, state),
    decideAndEvolveOwned: (command, state) => decideAndEvolve(command, state, true),
    evolve,
    policies,
  };
}

/**
 * One command being decided: the events recorded so far (`out`) and the state they fold to (`s`).
 * A class rather than closures: decide runs once per fact, and one object is cheaper than a closure per rule.
 */
class Decision {
  readonly out: DomainEvent[] = [];

  /** `owned`: whether `s` is this decision's to change in place (else it copies it at the first event). */
  constructor(
    public s: CustomerState,
    private readonly policies: PolicyBook,
    private owned: boolean,
  ) {}

  private policyAt(ms: number): Policy {
    return this.policies.forInstant(ms, monthOf);
  }

  /** Records `e`; `at` is e.at as epoch ms (e.at is always formatted from it, or parsed into it). */
  private emit(e: DomainEvent, at: number): void {
    this.out.push(e);
    if (this.owned) evolveOwned(this.s, e, at);
    else {
      this.s = evolveAt(this.s, e, at); // the state passed in is never changed
      this.owned = true;
    }
  }

  private changeStage(to: Stage, reason: StageChangeReason, at: number, detail: string): void {
    const s = this.s;
    const effective = s.stageSince !== null && s.stageSince > at ? s.stageSince : at;
    const p = this.policyAt(effective);
    const data: LifecycleStageChangedData = {
      from: s.stage,
      to,
      reason,
      detail,
      effectiveAt: formatInstant(effective),
      policyVersion: p.version,
      inputs: { shipmentCount: s.shipmentCount, lastShipmentAt: s.lastShipmentAt === null ? null : formatInstant(s.lastShipmentAt) },
    };
    this.emit({ type: 'LifecycleStageChanged', at: data.effectiveAt, data }, effective);
  }

  private reassessRisk(at: number): void {
    const s = this.s;
    const when = s.riskSince !== null && s.riskSince > at ? s.riskSince : at;
    const p = this.policyAt(when);
    const signals = riskSignals(s, when, p);
    const to = riskLevel(signals);
    if (to === s.risk) return;
    const effectiveAt = formatInstant(when);
    this.emit({ type: 'ChurnRiskChanged', at: effectiveAt, data: { from: s.risk, to, signals, effectiveAt, policyVersion: p.version } }, when);
  }

  /**
   * The first of everything due by `t` — earliest, then by kind (DUE_ORDER), then in the order listed here;
   * `after` is where the previous pass of time stopped. One pass, no list: this runs twice or more per fact.
   */
  private nextDue(t: number, after: number): Due | null {
    const s = this.s;
    let best: Due | null = null;
    const L = s.lastShipmentAt;
    if (L !== null) {
      const p = this.policyAt(L);
      if (s.stage === 'ACTIVATION' || s.stage === 'RETENTION') {
        const at = L + p.lifecycle.winbackAfterDays * DAY_MS;
        if (at <= t) best = { kind: 'STAGE', at, to: 'WINBACK', reason: 'INACTIVE_60D' };
      } else if (s.stage === 'WINBACK') {
        const at = L + p.lifecycle.lostAfterDays * DAY_MS;
        if (at <= t) best = { kind: 'STAGE', at, to: 'LOST', reason: 'INACTIVE_180D' };
      }
      if (s.stage === 'RETENTION') {
        const at = L + p.risk.inactiveDays * DAY_MS;
        if (at <= t && at > after && (best === null || firstDue(at, 'RISK', best))) best = { kind: 'RISK', at };
      }
    }
    if (s.complaintsDue === 0) return best;
    const open = s.openComplaints;
    for (const id in open) {
      const c = open[id];
      if (!slaPending(c)) continue; // nothing of it can fall due any more
      const sla = this.policyAt(c.filedAt).sla[c.tierAtFiling];
      const ackDue = c.filedAt + sla.ackHours * HOUR_MS;
      const resolveDue = c.filedAt + sla.resolveHours * HOUR_MS;
      // A deadline is missed once time has passed it: handling exactly at the deadline is on time.
      if (!c.acknowledged && !c.ackBreached && ackDue < t && (best === null || firstDue(ackDue, 'SLA', best)))
        best = { kind: 'SLA', at: ackDue, complaintId: c.complaintId, breach: 'ACK' };
      if (!c.resolveBreached && resolveDue < t && (best === null || firstDue(resolveDue, 'SLA', best)))
        best = { kind: 'SLA', at: resolveDue, complaintId: c.complaintId, breach: 'RESOLVE' };
    }
    return best;
  }

  /** Record, in order, what became due by `t` (lazily on an event, or by a sweep). */
  advanceTo(t: number): void {
    let after = this.s.clock;
    for (let d = this.nextDue(t, after); d !== null; d = this.nextDue(t, after)) {
      if (d.kind === 'STAGE') {
        const last = this.s.lastShipmentAt as number;
        const days = Math.round((d.at - last) / DAY_MS);
        this.changeStage(d.to, d.reason, d.at, `no shipment for ${days} days since ${formatInstant(last)}`);
      } else if (d.kind === 'SLA') {
        const c = this.s.openComplaints[d.complaintId];
        const p = this.policyAt(c.filedAt);
        const dueAt = formatInstant(d.at);
        this.emit({
          type: 'ComplaintSlaBreached',
          at: dueAt,
          data: { complaintId: c.complaintId, kind: d.breach, dueAt, tierAtFiling: c.tierAtFiling, category: c.category, source: c.source, policyVersion: p.version, effectiveAt: dueAt },
        }, d.at);
      }
      this.reassessRisk(d.at);
      if (d.at > after) after = d.at;
    }
  }

  recordFact(cmd: RecordFact): void {
    const e: UpstreamEvent = cmd.event;
    if (cmd.eventIdChecked !== true) {
      const ids = this.s.ids;
      if (ids === null) throw new UncheckedEventIdError(e.eventId);
      if (ids.has(e.eventId)) return; // the same eventId again changes nothing, whatever its payload
    }
    const T = parseInstant(e.occurredAt);
    const wasKnown = this.s.known;
    const clockBefore = this.s.clock;
    const lastShipmentBefore = this.s.lastShipmentAt;
    this.advanceTo(T);

    if (e.type === 'ShipmentPickedUp') {
      const month = monthOf(T);
      const closedThrough = maxMonth(this.s.lastClosedMonth, cmd.closedThrough ?? null);
      const late = closedThrough !== null && month <= closedThrough;
      this.emit({ type: e.type, at: e.occurredAt, eventId: e.eventId, source: e.source, data: late ? { ...e.data, late: true } : e.data }, T);
    } else {
      this.emit({ type: e.type, at: e.occurredAt, eventId: e.eventId, source: e.source, data: e.data } as DomainEvent, T);
    }

    if (!wasKnown) this.changeStage('ACQUISITION', 'FIRST_EVENT', T, `first event: ${e.type}`);
    if (e.type === 'ShipmentPickedUp') {
      const p = this.policyAt(T);
      const isNew = lastShipmentBefore === null || T > lastShipmentBefore;
      if (this.s.stage === 'ACQUISITION') this.changeStage('ACTIVATION', 'FIRST_SHIPMENT', T, `first shipment ${e.data.waybillNo}`);
      else if ((this.s.stage === 'WINBACK' || this.s.stage === 'LOST') && isNew)
        this.changeStage('RETENTION', 'WON_BACK', T, `won back from ${this.s.stage} by shipment ${e.data.waybillNo}`);
      const s = this.s;
      if (s.stage === 'ACTIVATION' && s.shipmentCount >= p.lifecycle.retentionMinShipments && s.shipmentDays.length >= p.lifecycle.retentionMinDays)
        this.changeStage('RETENTION', 'REPEAT_SHIPMENTS', T, `${s.shipmentCount} shipments on ${s.shipmentDays.length} distinct days`);
    }
    // Only these facts change a risk input; what time alone changes was reassessed while advancing to T.
    if (RISK_INPUTS.has(e.type)) this.reassessRisk(T > clockBefore ? T : clockBefore);
  }

  closePeriod(cmd: ClosePeriod): void {
    const s0 = this.s;
    if (!s0.known || (s0.lastClosedMonth !== null && cmd.month <= s0.lastClosedMonth)) return;
    const T = startOfNextMonth(cmd.month);
    this.advanceTo(T);
    const s = this.s;
    const p = this.policies.forMonth(cmd.month);
    const effectiveAt = formatInstant(T);
    const window: Record<string, number> = {};
    let best = 0;
    for (let i = 0; i < p.downgradeWindowMonths; i++) {
      const m = addMonths(cmd.month, -i);
      window[m] = contributionOf(s, m);
      if (window[m] > best) best = window[m];
    }
    const c = window[cmd.month];
    const earned = tierFor(c, p);
    const floorTier = tierFor(best, p);
    const from: Tier = s.tier;
    let to: Tier = from;
    let reason = '';
    let thresholdFen = 0;
    if (tierRank(earned) > tierRank(from)) {
      to = earned;
      thresholdFen = p.tierFloorsFen[earned];
      reason = `${cmd.month} upgraded ${from} → ${to}: contribution ${formatYuan(c)} ≥ ${formatYuan(thresholdFen)} (policy v${p.version}, upgrade rule)`;
    } else if (tierRank(floorTier) < tierRank(from)) {
      to = floorTier;
      thresholdFen = p.tierFloorsFen[from];
      reason =
        `${cmd.month} downgraded ${from} → ${to}: best of the last ${p.downgradeWindowMonths} months ${formatYuan(best)} < ${formatYuan(thresholdFen)} ` +
        `(policy v${p.version}, downgrade rule)`;
    }
    if (to !== from) {
      this.emit({
        type: 'TierChanged',
        at: effectiveAt,
        data: { from, to, month: cmd.month, contributionFen: c, rule: tierRank(to) > tierRank(from) ? 'UPGRADE' : 'DOWNGRADE', inputs: { window, thresholdFen, floorTier }, reason, policyVersion: p.version, effectiveAt },
      }, T);
    }
    this.emit({ type: 'MonthClosed', at: effectiveAt, data: { month: cmd.month, contributionFen: c, tier: this.s.tier, policyVersion: p.version, effectiveAt } }, T);
    this.reassessRisk(T);
  }
}

function maxMonth(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}

export const customerDecider = createCustomerDecider();

/** A fact without RecordFact.eventIdChecked for a state that keeps no eventIds: the decider cannot tell a duplicate. */
export class UncheckedEventIdError extends Error {
  constructor(readonly eventId: string) {
    super(`eventId ${eventId}: RecordFact.eventIdChecked is required for a state that keeps no eventIds (initialState({ trackEventIds: false }))`);
    this.name = 'UncheckedEventIdError';
  }
}

