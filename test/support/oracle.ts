/**
 * An independent reference of DESIGN §4.1 (tiers) and §4.2 (lifecycle stages), written from DESIGN.md
 * alone — it imports nothing from the system. It replays, customer by customer, the accepted upstream
 * events in the order they were ingested, the month closes and the sweeps, and says what every
 * customer's tier must be after each close, and the tier and stage at the end.
 */

export const TIERS = ['TRANSIENT', 'REGULAR', 'MIDDLE', 'VIP', 'PROJECT'] as const;
export type Tier = (typeof TIERS)[number];
export type Stage = 'ACQUISITION' | 'ACTIVATION' | 'RETENTION' | 'WINBACK' | 'LOST';

/** The least monthly contribution (fen) of each tier: < 300 元, 300 – < 2,000, 2,000 – < 10,000, 10,000 – < 100,000, ≥ 100,000 元. */
const FLOOR_FEN: Record<Tier, number> = { TRANSIENT: 0, REGULAR: 30_000, MIDDLE: 200_000, VIP: 1_000_000, PROJECT: 10_000_000 };
const rank = (t: Tier): number => TIERS.indexOf(t);

export function tierOf(contributionFen: number): Tier {
  let tier: Tier = 'TRANSIENT';
  for (const t of TIERS) if (contributionFen >= FLOOR_FEN[t]) tier = t;
  return tier;
}

const DAY_MS = 24 * 3600_000;
const WINBACK_AFTER_MS = 60 * DAY_MS;
const LOST_AFTER_MS = 180 * DAY_MS;
const UTC8_MS = 8 * 3600_000;

/** The UTC+8 calendar date and month of an instant written with any offset. */
const instant = (iso: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`oracle: not an instant: ${iso}`);
  return ms;
};
const dateUtc8 = (ms: number): string => new Date(ms + UTC8_MS).toISOString().slice(0, 10);
const monthUtc8 = (ms: number): string => dateUtc8(ms).slice(0, 7);
const previousMonth = (month: string): string => {
  const y = Number(month.slice(0, 4));
  const m = Number(month.slice(5, 7));
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
};

export interface OracleEvent {
  type: string;
  occurredAt: string;
  customerId: string;
  data: Record<string, unknown>;
}

export type OracleStep = { kind: 'ingest'; events: readonly OracleEvent[] } | { kind: 'close'; month: string } | { kind: 'sweep'; asOf: string };

export interface CloseOutcome {
  month: string;
  /** Every customer known when the close ran, with the tier it leaves them at. */
  tiers: Map<string, Tier>;
  /** How many customers changed tier in this close. */
  changes: number;
}

export interface OracleResult {
  closes: CloseOutcome[];
  /** Every known customer's tier and stage after the last step. */
  final: Map<string, { tier: Tier; stage: Stage }>;
}

class Customer {
  tier: Tier = 'TRANSIENT';
  stage: Stage | null = null;
  readonly contribution = new Map<string, number>();
  shipments = 0;
  readonly days = new Set<string>();
  lastShipment: number | null = null;

  /** The inactivity transitions due at `t` (effective time ≤ t), in order. */
  passTimeTo(t: number): void {
    for (;;) {
      if (this.lastShipment === null) return;
      if ((this.stage === 'ACTIVATION' || this.stage === 'RETENTION') && this.lastShipment + WINBACK_AFTER_MS <= t) this.stage = 'WINBACK';
      else if (this.stage === 'WINBACK' && this.lastShipment + LOST_AFTER_MS <= t) this.stage = 'LOST';
      else return;
    }
  }

  record(e: OracleEvent): void {
    const t = instant(e.occurredAt);
    this.passTimeTo(t); // lazily, before the event's own effect
    if (this.stage === null) this.stage = 'ACQUISITION';
    if (e.type !== 'ShipmentPickedUp') return;
    const fen = e.data.freightFen as number;
    const month = monthUtc8(t);
    this.contribution.set(month, (this.contribution.get(month) ?? 0) + fen);
    this.shipments++;
    this.days.add(dateUtc8(t));
    const isNewest = this.lastShipment === null || t > this.lastShipment;
    if (this.stage === 'ACQUISITION') this.stage = 'ACTIVATION';
    else if ((this.stage === 'WINBACK' || this.stage === 'LOST') && isNewest) this.stage = 'RETENTION';
    if (this.stage === 'ACTIVATION' && this.shipments >= 3 && this.days.size >= 2) this.stage = 'RETENTION';
    if (isNewest) this.lastShipment = t;
  }

  close(month: string): boolean {
    const c = (m: string) => this.contribution.get(m) ?? 0;
    const earned = tierOf(c(month));
    const before = this.tier;
    if (rank(earned) > rank(this.tier)) this.tier = earned;
    else {
      const m1 = previousMonth(month);
      const m2 = previousMonth(m1);
      const floor = tierOf(Math.max(c(month), c(m1), c(m2)));
      if (rank(floor) < rank(this.tier)) this.tier = floor;
    }
    return this.tier !== before;
  }
}

export function runOracle(steps: readonly OracleStep[]): OracleResult {
  const customers = new Map<string, Customer>();
  const closes: CloseOutcome[] = [];
  for (const step of steps) {
    if (step.kind === 'ingest') {
      for (const e of step.events) {
        let c = customers.get(e.customerId);
        if (!c) customers.set(e.customerId, (c = new Customer()));
        c.record(e);
      }
    } else if (step.kind === 'close') {
      const tiers = new Map<string, Tier>();
      let changes = 0;
      for (const [id, c] of customers) {
        if (c.close(step.month)) changes++;
        tiers.set(id, c.tier);
      }
      closes.push({ month: step.month, tiers, changes });
    } else {
      const t = instant(step.asOf);
      for (const c of customers.values()) c.passTimeTo(t);
    }
  }
  const final = new Map<string, { tier: Tier; stage: Stage }>();
  for (const [id, c] of customers) final.set(id, { tier: c.tier, stage: c.stage as Stage });
  return { closes, final };
}
