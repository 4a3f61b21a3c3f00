/**
 * The held-out scenario of issue 2's acceptance test: a seeded, deterministic history of a few hundred
 * customers over 2026-01..2026-08 (about 50k upstream events), written as eight monthly NDJSON files with
 * duplicates and malformed lines mixed in, plus the exact counts every import must report.
 *
 * Nothing here imports the system: times, months and validity are worked out from DESIGN §3 directly.
 * The generator knows which lines it made invalid and which eventIds it repeats, and replays its own
 * files line by line to count: a line is rejected if invalid; otherwise a duplicate if its eventId was
 * accepted before (in this file or an earlier one); otherwise accepted. An invalid line never reserves
 * its eventId.
 *
 * Behaviours mixed in (see `PROFILES`): steady customers of every tier, contributions on and one fen
 * under every tier floor, upgraders (also several tiers at once), fallers (downgraded only after three
 * closed months below, also step by step), pauses of 60 / 180 days and exactly 60 / 180 days, won-back
 * customers, three or more shipments on one business day only, shipments at 23:59:59+08:00 and
 * 00:00:00+08:00 on month boundaries and the same instants written in `Z`, `+09:00` and `-05:00`,
 * customers with only a registration, customers whose first event is a shipment, late shipments
 * (occurredAt in month M, in file M+1, imported after M was closed), and deliveries, exceptions,
 * payments, deposits and complaints around them.
 */

export const SCENARIO_MONTHS = ['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06', '2026-07', '2026-08'] as const;
export const SWEEP_AS_OF = '2026-09-01T00:00:00+08:00';

/** One upstream message as DESIGN §3 writes it. */
export interface UpstreamLine {
  eventId: string;
  type: string;
  occurredAt: string;
  customerId: string;
  source?: string;
  data: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface ExpectedRejection {
  /** 1-based line number in the file (blank lines count). */
  line: number;
  /** The eventId the system can read from the line (a string `eventId` field), if any. */
  eventId?: string;
  /** A word the reasons must contain: the field (or `JSON` / `object`) at fault. */
  mentions: string;
  /** What was wrong, for reports. */
  kind: string;
}

export interface ScenarioFile {
  month: string;
  fileName: string;
  content: string;
  /** Non-blank lines. */
  lines: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** Lines that pass validation (accepted + duplicates). */
  validLines: number;
  rejections: ExpectedRejection[];
  /** The accepted events, in file order: what the store must hold from this file. */
  acceptedEvents: UpstreamLine[];
  /** Accepted shipments whose month was already closed when this file is imported. */
  late: number;
}

export interface ScenarioStats {
  seed: number;
  customers: number;
  lines: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  late: number;
  /** Duplicates by kind: same line again in the same file, in a later file, same eventId with another payload. */
  exactSameFile: number;
  exactLaterFile: number;
  otherPayload: number;
  /** An invalid line first, the valid line with the same eventId later (accepted). */
  invalidThenValid: number;
  /** A valid line first, an invalid line with the same eventId later (rejected, not a duplicate). */
  validThenInvalid: number;
  acceptedByType: Record<string, number>;
  rejectedByKind: Record<string, number>;
  profiles: Record<string, number>;
}

export interface Scenario {
  seed: number;
  files: ScenarioFile[];
  /** Every customerId with at least one accepted event. */
  customers: string[];
  /** customerIds that appear only on lines that must not be recorded (duplicates, rejections). */
  ghosts: string[];
  /** customerId → the behaviour it was generated from (for failure reports). */
  profileOf: Record<string, string>;
  stats: ScenarioStats;
}

// ---------------------------------------------------------------------------------------------------------
// A tiny deterministic PRNG (mulberry32).

export class Rng {
  private x: number;
  constructor(seed: number) {
    this.x = seed >>> 0;
  }
  next(): number {
    this.x = (this.x + 0x6d2b79f5) >>> 0;
    let t = this.x;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Business calendar, written out again (UTC+8, no DST).

const SEC = 1000;
const HOUR = 3600 * SEC;
const DAY = 24 * HOUR;
const OFFSET = 8 * HOUR;

/** An instant given as a UTC+8 wall-clock time. */
const biz = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number => Date.UTC(y, mo - 1, d, h, mi, s) - OFFSET;
/** 00:00:00+08:00 on the 1st of 2026-(i+1); i = 8 is 2026-09-01. */
const monthStart = (i: number): number => biz(2026, i + 1, 1);
const START = monthStart(0);
/** The end of the data: the sweep instant. Nothing occurs at or after it. */
const END = monthStart(8);
/** Index 0..7 of the UTC+8 month of an instant within the scenario. */
const monthIndexOf = (ms: number): number => {
  const d = new Date(ms + OFFSET);
  return (d.getUTCFullYear() - 2026) * 12 + d.getUTCMonth();
};
const bizDate = (ms: number): string => new Date(ms + OFFSET).toISOString().slice(0, 10);

type Fmt = '+08' | 'Z' | '+09' | '-05';
const OFFSET_MIN: Record<Exclude<Fmt, 'Z'>, number> = { '+08': 480, '+09': 540, '-05': -300 };

/** ISO-8601 with the given offset, to the second. */
export function formatAt(ms: number, fmt: Fmt): string {
  if (ms % SEC !== 0) throw new Error('scenario instants are whole seconds');
  if (fmt === 'Z') return new Date(ms).toISOString().slice(0, 19) + 'Z';
  const off = OFFSET_MIN[fmt];
  const abs = Math.abs(off);
  return new Date(ms + off * 60_000).toISOString().slice(0, 19) + (off < 0 ? '-' : '+') + `${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------------------
// Customer plans.

/** Tier floors in fen (DESIGN §4.1) and contribution bands that sit well inside each tier. */
const FLOOR = [0, 30_000, 200_000, 1_000_000, 10_000_000] as const;
const BAND: readonly [number, number][] = [
  [1_000, 29_000],
  [31_000, 190_000],
  [210_000, 950_000],
  [1_050_000, 9_500_000],
  [10_500_000, 24_000_000],
];

interface Ship {
  ms: number;
  fen: number;
  fmt?: Fmt;
}

interface Plan {
  profile: string;
  /** Contribution per month (fen), spread over random shipments inside `active`. 0: none that month. */
  bulk: number[];
  /** Intervals [from, to) in which bulk shipments may occur. */
  active: [number, number][];
  /** Shipments at exact instants. */
  exact: Ship[];
  /** Shipments for month M delivered in file M+1 (after M was closed). */
  late: Ship[];
  register: boolean;
  /** Only non-shipment events (registration, manager, complaint, deposit) in this month. */
  quietMonth?: number;
  /** The first (and only) event type of a quiet customer without registration. */
  quietOnly?: 'AccountManagerAssigned' | 'PrepaidDeposited';
}

const zeros = (): number[] => [0, 0, 0, 0, 0, 0, 0, 0];
const whole = (): [number, number][] => [[START, END]];

type ProfileMaker = (r: Rng, variant: number) => Plan;

const inBand = (r: Rng, b: number): number => (b < 0 ? 0 : r.int(BAND[b][0], BAND[b][1]));

function steady(band: number): ProfileMaker {
  return (r) => {
    const bulk = zeros();
    const start = r.chance(0.7) ? 0 : r.int(1, 5);
    const stop = r.chance(0.12) ? r.int(start, 7) : 7;
    for (let m = start; m <= stop; m++) {
      const u = r.next();
      bulk[m] = u < 0.06 ? 0 : u < 0.16 ? inBand(r, Math.max(0, band - 1)) : inBand(r, band);
    }
    if (!bulk.some((x) => x > 0)) bulk[start] = inBand(r, band);
    return { profile: `steady-${band}`, bulk, active: [[monthStart(start) + r.int(0, 5) * DAY, END]], exact: [], late: [], register: r.chance(0.88) };
  };
}

/** Contributions on, and one fen under, a tier floor. */
const floorWalker: ProfileMaker = (r, variant) => {
  const f = 1 + (variant % 4);
  const on: number = FLOOR[f];
  const under = on - 1;
  const patterns = [
    [on, under, under, under, on, under, under, under],
    [under, on, under, under, under, under, on, on],
    [under, under, under, under, under, under, under, under],
    [on, on, under, on, under, under, under, 0],
  ];
  let bulk: number[];
  const p = Math.floor(variant / 4) % (patterns.length + 1);
  if (p < patterns.length) bulk = [...patterns[p]];
  else bulk = zeros().map(() => (r.chance(0.1) ? 0 : r.chance(0.5) ? on : under));
  return { profile: `floor-${on}-p${p}`, bulk, active: whole(), exact: [], late: [], register: r.chance(0.88) };
};

const upgrader: ProfileMaker = (r) => {
  let b = r.int(0, 1);
  const bulk = zeros().map((_, m) => {
    if (m > 0 && r.chance(0.35)) {
      b = Math.min(4, b + r.int(1, 3));
      if (r.chance(0.3)) return FLOOR[b];
    }
    return inBand(r, b);
  });
  return { profile: 'upgrader', bulk, active: whole(), exact: [], late: [], register: r.chance(0.88) };
};

const FALLS: readonly number[][] = [
  [3, 3, 2, 2, 2, 2, 2, 2],
  [4, 2, 1, 0, 0, 0, 0, 0],
  [3, 1, 1, 3, 1, 1, 1, 0],
  [2, 2, 1, 1, 2, 1, 1, 1],
  [4, -1, -1, -1, -1, -1, -1, -1],
  [1, 0, 0, 1, 0, 0, 0, 0],
  [3, 0, 0, 0, 3, 3, 3, 3],
  [4, 4, 4, 3, 3, 3, 2, 2],
  [2, 1, 0, -1, -1, 1, 1, 1],
  [3, 2, 2, 2, 2, 1, 1, 1],
];

/** Falls from a tier: downgraded only after three closed months below; sometimes one fen under the floor they fell from. */
const faller: ProfileMaker = (r, variant) => {
  const pattern = FALLS[variant % FALLS.length];
  let top = -1;
  const bulk = pattern.map((b) => {
    const v = b >= 0 && b < top && r.chance(0.2) ? FLOOR[b + 1] - 1 : inBand(r, b);
    top = Math.max(top, b);
    return v;
  });
  return { profile: `faller-${variant % FALLS.length}`, bulk, active: whole(), exact: [], late: [], register: r.chance(0.88) };
};

/** Pauses: stops, or comes back, after gaps around 60 and 180 days (some exactly on them). */
const pauser: ProfileMaker = (r, variant) => {
  const v = variant % 12;
  const band = r.int(0, 3);
  const bulk = zeros().map(() => inBand(r, band));
  const fen = () => r.int(500, 20_000);
  const plan = (active: [number, number][], exact: Ship[], bulkToo = true): Plan => ({ profile: `pauser-v${v}`, bulk: bulkToo ? bulk : zeros(), active, exact, late: [], register: r.chance(0.88) });
  const randomIn = (from: number, to: number) => from + r.int(0, Math.floor((to - from) / SEC) - 1) * SEC;
  switch (v) {
    case 0: {
      const x = randomIn(biz(2026, 3, 6), biz(2026, 7, 2)); // 60..180 days before the sweep: WINBACK
      return plan([[START, x]], [{ ms: x, fen: fen() }]);
    }
    case 1: {
      const x = randomIn(biz(2026, 1, 10), biz(2026, 3, 4)); // > 180 days: LOST
      return plan([[START, x]], [{ ms: x, fen: fen() }]);
    }
    case 2: // exactly 60 days before the sweep
      return plan([[START, biz(2026, 7, 3) - DAY]], [{ ms: biz(2026, 7, 3), fen: fen(), fmt: 'Z' }]);
    case 3: // one second less than 60 days
      return plan([[START, biz(2026, 7, 3) - DAY]], [{ ms: biz(2026, 7, 3, 0, 0, 1), fen: fen() }]);
    case 4: // exactly 180 days
      return plan([[START, biz(2026, 3, 5) - DAY]], [{ ms: biz(2026, 3, 5), fen: fen() }]);
    case 5: // one second less than 180 days
      return plan([[START, biz(2026, 3, 5) - DAY]], [{ ms: biz(2026, 3, 5, 0, 0, 1), fen: fen(), fmt: 'Z' }]);
    case 6: {
      // a gap of 61..120 days, then back for good: WINBACK then RETENTION
      const x = randomIn(biz(2026, 1, 15), biz(2026, 4, 30));
      const back = x + r.int(61, 120) * DAY + r.int(0, 3600) * SEC;
      return plan([[START, x], [back + SEC, END]], [{ ms: x, fen: fen() }, { ms: back, fen: fen() }]);
    }
    case 7: {
      // a gap of more than 180 days: LOST, then RETENTION
      const x = randomIn(biz(2026, 1, 5), biz(2026, 2, 20));
      const back = x + r.int(181, 190) * DAY;
      return plan([[START, x], [back + SEC, END]], [{ ms: x, fen: fen() }, { ms: back, fen: fen() }]);
    }
    case 8: // one shipment, the second exactly 60 days later: WINBACK is due first, so won back to RETENTION
      return plan([], [{ ms: biz(2026, 5, 10, 10), fen: fen() }, { ms: biz(2026, 5, 10, 10) + 60 * DAY, fen: fen() }], false);
    case 9: // the same one second earlier: still ACTIVATION (2 shipments)
      return plan([], [{ ms: biz(2026, 5, 10, 10), fen: fen() }, { ms: biz(2026, 5, 10, 10) + 60 * DAY - SEC, fen: fen() }], false);
    case 10: // back exactly 180 days later: WINBACK, LOST, RETENTION
      return plan([[START, biz(2026, 1, 20, 9)]], [{ ms: biz(2026, 1, 20, 9), fen: fen() }, { ms: biz(2026, 1, 20, 9) + 180 * DAY, fen: fen() }]);
    default: // back one second before 180 days: WINBACK, RETENTION
      return plan([[START, biz(2026, 1, 20, 9)]], [{ ms: biz(2026, 1, 20, 9), fen: fen() }, { ms: biz(2026, 1, 20, 9) + 180 * DAY - SEC, fen: fen() }]);
  }
};

/** Few shipments on few days: ≥ 3 shipments need ≥ 2 distinct UTC+8 days for RETENTION. */
const fewShipments: ProfileMaker = (r, variant) => {
  const v = variant % 15;
  const fen = () => r.int(500, 20_000);
  const at = (mo: number, d: number, h: number, mi = 0, s = 0, fmt?: Fmt): Ship => ({ ms: biz(2026, mo, d, h, mi, s), fen: fen(), fmt });
  const hours = (mo: number, d: number, n: number): Ship[] => {
    const hs = new Set<number>();
    while (hs.size < n) hs.add(r.int(1, 22));
    return [...hs].sort((a, b) => a - b).map((h) => at(mo, d, h, r.int(0, 59)));
  };
  const exactByVariant: Ship[][] = [
    hours(8, 10, 3), // three on one day, recent: ACTIVATION
    [at(7, 20, 0, 30, 0, 'Z'), at(7, 20, 12), at(7, 20, 23, 30)], // one UTC+8 day, two UTC days: ACTIVATION
    hours(8, 3, 5), // five on one day: ACTIVATION
    hours(2, 10, 3), // three on one day long ago: LOST
    hours(5, 20, 3), // three on one day, then nothing: WINBACK
    [at(7, 31, 23, 59, 59), at(7, 31, 23, 59, 59), at(8, 1, 0, 0, 0)], // two days across midnight (and a month boundary): RETENTION
    [at(8, 5, 23, 0, 0, 'Z'), at(8, 6, 1, 0, 0, 'Z'), at(8, 6, 1, 30, 0, 'Z')], // one UTC day, two UTC+8 days: RETENTION
    [at(8, 1, 10), at(8, 15, 10)], // two shipments on two days: ACTIVATION
    [at(8, 20, 15)], // one shipment: ACTIVATION
    [...hours(7, 10, 4), at(7, 24, 9)], // four on one day, one more two weeks later: RETENTION
    [at(7, 3, 0, 0, 0), at(7, 3, 10), at(7, 3, 20)], // one day starting at 00:00:00+08:00: ACTIVATION
    [at(6, 1, 0, 0, 0, 'Z'), at(6, 1, 9), at(6, 1, 18)], // one day, first written as 05-31T16:00:00Z: WINBACK
    hours(8, 28, 3), // registered long before, three on one day at the end: ACTIVATION
    [
      { ms: biz(2026, 8, 12, 9), fen: 10_000 },
      { ms: biz(2026, 8, 12, 13), fen: 10_000 },
      { ms: biz(2026, 8, 12, 17), fen: 10_000 },
    ], // exactly 30,000 on one day: REGULAR, ACTIVATION
    [at(4, 30, 23, 59, 59), at(4, 30, 23, 59, 59), at(4, 30, 23, 59, 59)], // three at the same instant: WINBACK
  ];
  const exact = exactByVariant[v];
  return { profile: `few-v${v}`, bulk: zeros(), active: [], exact, late: [], register: v === 12 || r.chance(0.8), quietMonth: v === 12 ? 0 : undefined };
};

/** A shipment on a month boundary (written in several offsets) that decides whether month k reaches a floor. */
const boundary: ProfileMaker = (r, variant) => {
  const special = variant >= 28 ? variant - 28 : -1;
  const k = special === 0 ? 0 : special === 1 ? 7 : variant % 7; // boundary between month k and k+1
  const w = special >= 0 ? -1 : variant % 6; // with k = variant % 7: 28 distinct (k, w) pairs covering every k and every w
  const B = monthStart(k + 1);
  const f = 1 + (variant % 4);
  const floor = FLOOR[f];
  const boundaryFen = r.int(1, Math.min(Math.floor(floor / 2), 50_000));
  let ship: Ship;
  let inK: boolean;
  if (special === 0) {
    ship = { ms: START, fen: boundaryFen, fmt: 'Z' }; // 2025-12-31T16:00:00Z = 2026-01-01T00:00:00+08:00
    inK = true; // (k = 0 here: the shipment is in January)
  } else if (special === 1) {
    ship = { ms: END - SEC, fen: boundaryFen, fmt: 'Z' }; // 2026-08-31T15:59:59Z, still August
    inK = true;
  } else {
    const variants: [number, Fmt, boolean][] = [
      [B - SEC, '+08', true], // 23:59:59+08:00 on the last day
      [B, '+08', false], // 00:00:00+08:00 on the 1st
      [B - SEC, 'Z', true], // …T15:59:59Z
      [B, 'Z', false], // …T16:00:00Z (the UTC date is still the last day of month k)
      [B - 30 * 60 * SEC, '+09', true], // …-01T00:30:00+09:00 (the 1st in Tokyo, still month k here)
      [B, '-05', false], // …T11:00:00-05:00 on the last day
    ];
    const [ms, fmt, k0] = variants[w];
    ship = { ms, fen: boundaryFen, fmt };
    inK = k0;
  }
  // The month the boundary shipment belongs to reaches the floor exactly with it, and only with it; the other
  // month beside the boundary stays small. (For the `k+1` variants a calendar in UTC, or one reading the wall
  // clock without the offset, would put the shipment in month k, already closed when its file is imported.)
  const monthOfShip = inK ? k : k + 1;
  const bulk = zeros();
  const below = f - 1;
  for (let m = 0; m < 8; m++) {
    if (m === monthOfShip) bulk[m] = floor - boundaryFen;
    else if (m === k || m === k + 1) bulk[m] = r.int(1_000, 20_000);
    else if (m < k) bulk[m] = r.chance(0.7) ? inBand(r, below) : 0;
    else bulk[m] = inBand(r, r.int(0, below));
  }
  // Bulk shipments stay an hour clear of the boundary; the boundary shipment is the month's last (or next month's first).
  const active: [number, number][] = [
    [START, B - HOUR],
    [B + HOUR, END],
  ];
  return { profile: `boundary-k${k}-w${w}-m${monthOfShip}`, bulk, active, exact: [ship], late: [], register: special !== 0 && r.chance(0.88) };
};

const registeredOnly: ProfileMaker = (r, variant) => {
  const quietMonth = r.int(0, 7);
  const v = variant % 6;
  return {
    profile: `registered-only-v${v}`,
    bulk: zeros(),
    active: [],
    exact: [],
    late: [],
    register: v < 4,
    quietMonth,
    quietOnly: v === 4 ? 'AccountManagerAssigned' : v === 5 ? 'PrepaidDeposited' : undefined,
  };
};

/** Late shipments: they count in their month from then on (three-month floor) but reopen nothing. */
const lateShipper: ProfileMaker = (r, variant) => {
  const inMonth = (m: number) => monthStart(m) + r.int(1, 26) * DAY + r.int(0, 86_399) * SEC;
  if (variant === 0) {
    // MIDDLE in January, REGULAR-level since; a late 1,500 元 for February keeps the floor MIDDLE through the April close.
    const bulk = [250_000, 100_000, 100_000, 100_000, 100_000, 100_000, 100_000, 100_000];
    return { profile: 'late-floor-keeper', bulk, active: whole(), exact: [], late: [{ ms: inMonth(1), fen: 150_000 }], register: true };
  }
  if (variant === 1) {
    // TRANSIENT; a late 200 元 lifts February to 400 元 after February was closed: no upgrade.
    const bulk = [20_000, 20_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000];
    return { profile: 'late-no-reopen', bulk, active: whole(), exact: [], late: [{ ms: inMonth(1), fen: 20_000 }], register: true };
  }
  if (variant === 2) {
    // One fen under the floor in March; a late 1 fen makes March exactly 2,000 元: too late to upgrade, counts in the floor.
    const bulk = [50_000, 60_000, 199_999, 40_000, 40_000, 40_000, 40_000, 40_000];
    return { profile: 'late-one-fen', bulk, active: whole(), exact: [], late: [{ ms: inMonth(2), fen: 1 }], register: true };
  }
  const band = r.int(1, 3);
  const bulk = zeros().map(() => inBand(r, band));
  const m = r.int(0, 6);
  const late = [{ ms: inMonth(m), fen: r.int(1_000, 500_000) }];
  if (r.chance(0.4)) late.push({ ms: inMonth(m), fen: r.int(1_000, 100_000) });
  return { profile: `late-generic-m${m}`, bulk, active: whole(), exact: [], late, register: r.chance(0.88) };
};

/** How many customers of each behaviour. */
const PROFILES: [string, number, ProfileMaker][] = [
  ['steady-transient', 22, steady(0)],
  ['steady-regular', 28, steady(1)],
  ['steady-middle', 28, steady(2)],
  ['steady-vip', 22, steady(3)],
  ['steady-project', 10, steady(4)],
  ['floor', 40, floorWalker],
  ['upgrader', 20, upgrader],
  ['faller', 25, faller],
  ['pauser', 40, pauser],
  ['few', 15, fewShipments],
  ['boundary', 30, boundary],
  ['registered-only', 12, registeredOnly],
  ['late', 10, lateShipper],
];

// ---------------------------------------------------------------------------------------------------------
// From plans to events.

interface Item {
  ms: number;
  prio: number;
  type: string;
  data: Record<string, unknown>;
  fmt: Fmt;
  /** Which monthly file carries it (its UTC+8 month, or the next one for a late shipment). */
  file: number;
  late: boolean;
  seq: number;
}

const PRODUCTS = ['SAME_DAY', 'NEXT_MORNING', 'NEXT_DAY', 'DEFERRED', 'FRESH', 'INTERNATIONAL'] as const;
const CITIES = ['深圳', '广州', '上海', '北京', '杭州', '成都', '武汉', '西安', '南京', '天津'] as const;
const INDUSTRIES = ['电商', '制造', '医药', '生鲜', '服装', '电子', '图书'] as const;
const CHANNELS = ['ONLINE', 'HOTLINE', 'COURIER', 'SALES', 'REFERRAL'] as const;
const KINDS = ['DELAYED', 'DAMAGED', 'LOST', 'RETURNED'] as const;
const CATEGORIES = ['QUALITY_SUGGESTION', 'DEMAND_SUGGESTION', 'QUALITY_COMPLAINT'] as const;
const SOURCES = ['HOTLINE_AGENT', 'SORTING_CENTER', 'PICKUP_COURIER', 'DELIVERY_COURIER', 'OTHER'] as const;

/** Splits `total` fen into `n` non-negative integer parts. */
function split(r: Rng, total: number, n: number): number[] {
  if (n <= 1) return [total];
  const cuts = Array.from({ length: n - 1 }, () => r.int(0, total)).sort((a, b) => a - b);
  const parts: number[] = [];
  let prev = 0;
  for (const c of cuts) {
    parts.push(c - prev);
    prev = c;
  }
  parts.push(total - prev);
  return parts;
}

/** A plausible number of pickups for a monthly contribution. */
function shipmentsFor(r: Rng, total: number): number {
  if (total <= 0) return 0;
  const l = Math.max(0, Math.log10(total) - 2.5);
  return Math.max(1, Math.min(120, Math.round(1.5 * l * l * (0.7 + 0.6 * r.next()))));
}

/** A random whole second inside the parts of [from, to) covered by `active`. */
function randomInstant(r: Rng, from: number, to: number, active: [number, number][]): number | null {
  const parts: [number, number][] = [];
  for (const [a, b] of active) {
    const lo = Math.max(a, from);
    const hi = Math.min(b, to);
    if (hi - lo >= SEC) parts.push([lo, hi]);
  }
  const total = parts.reduce((s, [a, b]) => s + (b - a), 0);
  if (total === 0) return null;
  let u = Math.floor((r.next() * total) / SEC) * SEC;
  for (const [a, b] of parts) {
    if (u < b - a) return Math.ceil((a + u) / SEC) * SEC;
    u -= b - a;
  }
  return parts[parts.length - 1][0];
}

function buildCustomer(r: Rng, id: string, plan: Plan): Item[] {
  const items: Omit<Item, 'seq'>[] = [];
  const fmtFor = (): Fmt => (r.chance(0.06) ? 'Z' : r.chance(0.01) ? '+09' : '+08');
  let waybill = 0;
  const ship = (s: Ship, late: boolean) => {
    const m = monthIndexOf(s.ms);
    if (s.ms < START || s.ms >= END) throw new Error(`${id}: shipment outside the scenario`);
    const data: Record<string, unknown> = {
      waybillNo: `SF${id.slice(1)}${String(++waybill).padStart(5, '0')}`,
      product: r.pick(PRODUCTS),
      freightFen: s.fen,
      originCity: r.pick(CITIES),
      destinationCity: r.pick(CITIES),
    };
    if (r.chance(0.7)) data.weightGrams = r.int(100, 30_000);
    items.push({ ms: s.ms, prio: 2, type: 'ShipmentPickedUp', data, fmt: s.fmt ?? fmtFor(), file: late ? m + 1 : m, late });
    return data.waybillNo as string;
  };

  // Bulk shipments per month, at random instants inside the active intervals.
  const shipments: { ms: number; fen: number; waybillNo: string }[] = [];
  const contribution = zeros();
  for (let m = 0; m < 8; m++) {
    const n = shipmentsFor(r, plan.bulk[m]);
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = randomInstant(r, monthStart(m), monthStart(m + 1), plan.active);
      if (t !== null) times.push(t);
    }
    if (times.length === 0) continue;
    times.sort((a, b) => a - b);
    const fens = split(r, plan.bulk[m], times.length);
    times.forEach((t, i) => shipments.push({ ms: t, fen: fens[i], waybillNo: ship({ ms: t, fen: fens[i] }, false) }));
    contribution[m] += plan.bulk[m];
  }
  for (const s of plan.exact) {
    shipments.push({ ms: s.ms, fen: s.fen, waybillNo: ship(s, false) });
    contribution[monthIndexOf(s.ms)] += s.fen;
  }
  for (const s of plan.late) {
    if (monthIndexOf(s.ms) >= 7) throw new Error(`${id}: a late shipment needs a following month`);
    ship(s, true);
  }

  // Around the shipments: deliveries, exceptions, payments, complaints.
  for (const s of shipments) {
    if (r.chance(0.72)) {
      const t = s.ms + r.int(4 * 3600, 60 * 3600) * SEC;
      if (t < END) items.push({ ms: t, prio: 3, type: 'ShipmentDelivered', data: { waybillNo: s.waybillNo, onTime: r.chance(0.9) }, fmt: fmtFor(), file: monthIndexOf(t), late: false });
    }
    if (r.chance(0.02)) {
      const t = s.ms + r.int(2 * 3600, 48 * 3600) * SEC;
      if (t < END) items.push({ ms: t, prio: 3, type: 'ShipmentException', data: { waybillNo: s.waybillNo, kind: r.pick(KINDS) }, fmt: fmtFor(), file: monthIndexOf(t), late: false });
    }
  }
  for (let m = 0; m < 7; m++) {
    if (contribution[m] === 0) continue;
    const month = SCENARIO_MONTHS[m];
    const invoiceId = `INV-${id}-${month}`;
    if (r.chance(0.06)) {
      const t = monthStart(m + 1) + r.int(15, 25) * DAY + r.int(0, 86_399) * SEC;
      if (t < END) items.push({ ms: t, prio: 4, type: 'PaymentOverdue', data: { invoiceId, amountFen: contribution[m], dueDate: bizDate(t - 5 * DAY) }, fmt: fmtFor(), file: monthIndexOf(t), late: false });
      const paid = t + r.int(3, 20) * DAY;
      if (paid < END && r.chance(0.6)) items.push({ ms: paid, prio: 4, type: 'PaymentSettled', data: { invoiceId, amountFen: contribution[m], period: month }, fmt: fmtFor(), file: monthIndexOf(paid), late: false });
    } else if (r.chance(0.85)) {
      const t = monthStart(m + 1) + r.int(2, 14) * DAY + r.int(0, 86_399) * SEC;
      items.push({ ms: t, prio: 4, type: 'PaymentSettled', data: { invoiceId, amountFen: contribution[m], period: month }, fmt: fmtFor(), file: monthIndexOf(t), late: false });
    }
  }

  const firstItem = items.length > 0 ? Math.min(...items.map((i) => i.ms)) : END;
  const quietAt = plan.quietMonth !== undefined ? monthStart(plan.quietMonth) + r.int(0, 27) * DAY + r.int(0, 86_399) * SEC : null;
  const first = quietAt !== null ? Math.min(quietAt, firstItem) : firstItem;
  const quiet = (type: string, data: Record<string, unknown>, ms: number, prio = 4) => {
    if (ms < END) items.push({ ms, prio, type, data, fmt: fmtFor(), file: monthIndexOf(ms), late: false });
  };
  if (plan.quietOnly === 'AccountManagerAssigned') quiet('AccountManagerAssigned', { managerId: `M${r.int(1, 12)}` }, first, 1);
  else if (plan.quietOnly === 'PrepaidDeposited') quiet('PrepaidDeposited', { amountFen: r.int(1, 500) * 10_000 }, first);
  else {
    const reg = plan.register && quietAt === null ? Math.max(START, first - r.int(0, 5 * 86_400) * SEC) : first;
    if (plan.register) {
      const data: Record<string, unknown> = { name: `客户${id}` };
      if (r.chance(0.8)) data.industry = r.pick(INDUSTRIES);
      if (r.chance(0.8)) data.channel = r.pick(CHANNELS);
      if (r.chance(0.5)) data.contactPhone = `13${String(r.int(0, 999_999_999)).padStart(9, '0')}`;
      if (r.chance(0.8)) data.city = r.pick(CITIES);
      quiet('CustomerRegistered', data, reg, 0);
    }
    if (r.chance(0.45)) quiet('AccountManagerAssigned', { managerId: `M${r.int(1, 12)}` }, reg + r.int(1, 10) * DAY, 1);
    if (r.chance(0.06)) quiet('PrepaidDeposited', { amountFen: r.int(1, 500) * 10_000 }, reg + r.int(1, 60) * DAY);
    const complaints = r.chance(0.15) ? r.int(1, 3) : 0;
    for (let c = 0; c < complaints; c++) {
      const filed = reg + r.int(1, 200) * DAY + r.int(0, 86_399) * SEC;
      const complaintId = `K-${id}-${c + 1}`;
      const data: Record<string, unknown> = { complaintId, category: r.pick(CATEGORIES), source: r.pick(SOURCES) };
      if (r.chance(0.5)) data.description = '延误未通知';
      quiet('ComplaintFiled', data, filed);
      if (r.chance(0.8)) quiet('ComplaintAcknowledged', { complaintId }, filed + r.int(600, 40 * 3600) * SEC);
      if (r.chance(0.6)) quiet('ComplaintResolved', r.chance(0.7) ? { complaintId, satisfaction: r.int(1, 5) } : { complaintId }, filed + r.int(10 * 3600, 120 * 3600) * SEC);
    }
  }
  items.sort((a, b) => a.ms - b.ms || a.prio - b.prio);
  return items.map((i) => ({ ...i, seq: 0 }));
}

// ---------------------------------------------------------------------------------------------------------
// Lines: valid originals, then duplicates and malformed lines mixed in.

interface Line {
  text: string;
  /** For a line that passes validation. */
  event?: UpstreamLine;
  late?: boolean;
  /** For an invalid line. */
  invalid?: { mentions: string; kind: string; eventId?: string };
  dupKind?: 'exactSameFile' | 'exactLaterFile' | 'otherPayload';
}

function uuidFactory(r: Rng): () => string {
  const used = new Set<string>();
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[r.int(0, 15)]).join('');
  return () => {
    for (;;) {
      const id = `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[r.int(0, 3)]}${hex(3)}-${hex(12)}`;
      if (!used.has(id)) {
        used.add(id);
        return id;
      }
    }
  };
}

const SOURCE_OF: Record<string, string> = {
  CustomerRegistered: 'crm-portal',
  AccountManagerAssigned: 'crm-portal',
  ShipmentPickedUp: 'waybill-east',
  ShipmentDelivered: 'waybill-east',
  ShipmentException: 'waybill-south',
  PaymentSettled: 'billing',
  PaymentOverdue: 'billing',
  PrepaidDeposited: 'billing',
  ComplaintFiled: 'hotline',
  ComplaintAcknowledged: 'hotline',
  ComplaintResolved: 'hotline',
};

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** A malformed variant of `e` (keeping its eventId where the defect allows). */
function malformed(r: Rng, e: UpstreamLine, kindIndex?: number): Line {
  const bad = clone(e) as Record<string, any>;
  const isShip = e.type === 'ShipmentPickedUp';
  const kinds = ['json', 'missing-field', 'negative-freight', 'float-freight', 'string-freight', 'no-offset', 'bad-customer', 'unknown-type', 'bad-product', 'missing-data', 'not-object', 'bad-event-id', 'bad-month', 'empty-string'];
  let kind = kinds[kindIndex ?? r.int(0, kinds.length - 1)];
  if (!isShip && ['negative-freight', 'float-freight', 'string-freight', 'bad-product'].includes(kind)) kind = 'no-offset';
  const withId = (mentions: string): Line => ({ text: JSON.stringify(bad), invalid: { mentions, kind, eventId: typeof bad.eventId === 'string' ? bad.eventId : undefined } });
  switch (kind) {
    case 'json': {
      const text = JSON.stringify(e);
      const variants = [text.slice(0, r.int(10, text.length - 2)), text.replace(/}$/, ',}'), text.replace(/"type"/, 'type'), `${text}}`];
      return { text: r.pick(variants), invalid: { mentions: 'JSON', kind } };
    }
    case 'missing-field': {
      const field = r.pick(isShip ? ['occurredAt', 'customerId', 'type', 'data.waybillNo', 'data.freightFen', 'data.originCity'] : ['occurredAt', 'customerId', 'type']);
      if (field.startsWith('data.')) delete bad.data[field.slice(5)];
      else delete bad[field];
      return withId(field);
    }
    case 'negative-freight':
      bad.data.freightFen = -r.int(1, 50_000);
      return withId('data.freightFen');
    case 'float-freight':
      bad.data.freightFen = r.int(0, 50_000) + 0.5;
      return withId('data.freightFen');
    case 'string-freight':
      bad.data.freightFen = String(r.int(0, 50_000));
      return withId('data.freightFen');
    case 'no-offset':
      bad.occurredAt = String(e.occurredAt).slice(0, 19);
      return withId('occurredAt');
    case 'bad-customer':
      bad.customerId = r.pick([`${e.customerId} `, `客户${e.customerId}`, '', `${e.customerId}#1`, 'C'.repeat(65), 'C/001', 42]);
      return withId('customerId');
    case 'unknown-type':
      bad.type = r.pick(['ShipmentTeleported', 'shipmentPickedUp', 'CustomerDeleted', '']);
      return withId('type');
    case 'bad-product':
      bad.data.product = r.pick(['TELEPORT', 'next_day', '']);
      return withId('data.product');
    case 'missing-data':
      if (r.chance(0.5)) delete bad.data;
      else bad.data = r.pick([null, 'freight', [1, 2]]);
      return withId('data');
    case 'not-object':
      return { text: r.pick(['[1,2,3]', '"ShipmentPickedUp"', 'null', '42', `[${JSON.stringify(e)}]`]), invalid: { mentions: 'object', kind } };
    case 'bad-event-id':
      if (r.chance(0.5)) delete bad.eventId;
      else bad.eventId = r.pick(['evt-123', e.eventId.replace(/-/g, ''), `${e.eventId}0`, 12345]);
      return withId('eventId');
    case 'bad-month':
      bad.occurredAt = r.pick(['2026-13-01T10:00:00+08:00', '2026-00-10T10:00:00+08:00', '2026-03-04T25:00:00+08:00', '2026/03/04T10:00:00+08:00', 'yesterday']);
      return withId('occurredAt');
    default: {
      // an empty required string
      if (isShip) {
        bad.data.waybillNo = '';
        return withId('data.waybillNo');
      }
      bad.customerId = '';
      return withId('customerId');
    }
  }
}

/** The same eventId with another (valid) payload: must change nothing. */
function otherPayload(r: Rng, e: UpstreamLine, customers: string[], ghost: () => string): UpstreamLine {
  const d = clone(e);
  const u = r.next();
  if (e.type === 'ShipmentPickedUp' && u < 0.5) d.data.freightFen = (e.data.freightFen as number) * 7 + 100_000_013;
  else if (u < 0.65) d.occurredAt = formatAt(Date.parse(e.occurredAt) + r.int(1, 72) * HOUR, '+08');
  else if (u < 0.8) d.customerId = r.pick(customers);
  else if (u < 0.9) d.customerId = ghost();
  else {
    d.type = 'ShipmentPickedUp';
    d.data = { waybillNo: `SFDUP${r.int(1, 99_999)}`, product: 'NEXT_DAY', freightFen: 12_345_678, originCity: '深圳', destinationCity: '上海' };
  }
  if (JSON.stringify(d) === JSON.stringify(e)) d.source = 'replayed';
  return d;
}

export interface ScenarioOptions {
  seed?: number;
  /** Per base line: probability of each kind of noise after it. */
  noise?: { exactSameFile: number; otherPayloadSameFile: number; laterFile: number; malformed: number; invalidThenValid: number; validThenInvalid: number; repeatInvalid: number };
}

export function generateScenario(options: ScenarioOptions = {}): Scenario {
  const seed = options.seed ?? 20260901;
  const noise = options.noise ?? { exactSameFile: 0.012, otherPayloadSameFile: 0.004, laterFile: 0.006, malformed: 0.008, invalidThenValid: 0.001, validThenInvalid: 0.001, repeatInvalid: 0.0005 };
  const r = new Rng(seed);
  const uuid = uuidFactory(r);

  // Plans, shuffled onto customer ids.
  const plans: Plan[] = [];
  for (const [, count, make] of PROFILES) for (let v = 0; v < count; v++) plans.push(make(r, v));
  r.shuffle(plans);
  const ids = plans.map((_, i) => `C${String(100_001 + i * 7)}`);
  const profileOf: Record<string, string> = {};
  const items: { id: string; item: Item }[] = [];
  let seq = 0;
  plans.forEach((plan, i) => {
    profileOf[ids[i]] = plan.profile;
    for (const item of buildCustomer(r, ids[i], plan)) items.push({ id: ids[i], item: { ...item, seq: seq++ } });
  });

  // Late shipments must be older than a shipment of the same customer already in their file (so they never move
  // the last-shipment time), and the customer must be in RETENTION by then (≥ 3 shipments on ≥ 2 days before).
  for (const { id, item } of items) {
    if (!item.late) continue;
    const own = items.filter((x) => x.id === id && x.item.type === 'ShipmentPickedUp' && !x.item.late);
    const laterInFile = own.some((x) => x.item.file === item.file && x.item.ms > item.ms);
    const before = own.filter((x) => x.item.file < item.file);
    if (!laterInFile || before.length < 3 || new Set(before.map((x) => bizDate(x.item.ms))).size < 2) throw new Error(`scenario: late shipment of ${id} does not fit the plan`);
  }

  // Valid original lines per file, in time order; late shipments at the end of their file.
  const base: Line[][] = SCENARIO_MONTHS.map(() => []);
  const sorted = [...items].sort((a, b) => Number(a.item.late) - Number(b.item.late) || a.item.ms - b.item.ms || a.item.seq - b.item.seq);
  for (const { id, item } of sorted) {
    const e: UpstreamLine = { eventId: uuid(), type: item.type, occurredAt: formatAt(item.ms, item.fmt), customerId: id, data: item.data };
    if (r.chance(0.92)) e.source = SOURCE_OF[item.type];
    if (r.chance(0.015)) e.traceId = `t-${r.int(1, 1e9)}`; // unknown extra fields are tolerated
    if (r.chance(0.01)) e.data = { ...e.data, upstreamRevision: r.int(1, 9) };
    base[item.file].push({ text: JSON.stringify(e), event: e, late: item.late });
  }

  const real = [...new Set(items.map((x) => x.id))];
  const ghosts: string[] = [];
  const ghost = () => {
    const g = `CGHOST${String(ghosts.length + 1).padStart(3, '0')}`;
    ghosts.push(g);
    return g;
  };
  const malformedSoFar: Line[] = [];
  const stats = { exactSameFile: 0, exactLaterFile: 0, otherPayload: 0, invalidThenValid: 0, validThenInvalid: 0 };

  const files: Line[][] = base.map((lines, f) => {
    const out: Line[] = [];
    const emitted: Line[] = []; // valid lines of this file already written
    for (const line of lines) {
      const e = line.event as UpstreamLine;
      if (r.chance(noise.invalidThenValid)) {
        out.push(malformed(r, e, r.int(1, 9))); // kinds that keep the eventId readable
        stats.invalidThenValid++;
      }
      out.push(line);
      emitted.push(line);
      if (r.chance(noise.exactSameFile)) out.push({ ...r.pick(emitted), dupKind: 'exactSameFile' });
      if (r.chance(noise.otherPayloadSameFile)) {
        const d = otherPayload(r, r.pick(emitted).event as UpstreamLine, real, ghost);
        out.push({ text: JSON.stringify(d), event: d, dupKind: 'otherPayload' });
      }
      if (f > 0 && r.chance(noise.laterFile)) {
        const earlier = base[r.int(0, f - 1)];
        const orig = r.pick(earlier);
        if (r.chance(0.7)) out.push({ ...orig, late: false, dupKind: 'exactLaterFile' });
        else {
          const d = otherPayload(r, orig.event as UpstreamLine, real, ghost);
          out.push({ text: JSON.stringify(d), event: d, dupKind: 'otherPayload' });
        }
      }
      if (r.chance(noise.validThenInvalid)) {
        out.push(malformed(r, r.pick(emitted).event as UpstreamLine, r.int(1, 9)));
        stats.validThenInvalid++;
      }
      if (r.chance(noise.malformed)) {
        const fresh = clone(r.pick(emitted).event as UpstreamLine);
        fresh.eventId = uuid();
        const m = malformed(r, fresh);
        out.push(m);
        malformedSoFar.push(m);
      }
      if (malformedSoFar.length > 0 && r.chance(noise.repeatInvalid)) out.push({ ...r.pick(malformedSoFar) });
    }
    if (f === 3) out.splice(Math.floor(out.length / 2), 0, { text: '' }); // a blank line: not a message, but it counts for line numbers
    return out;
  });

  // Replay the files as the system must: validate, then drop eventIds accepted before.
  const acceptedIds = new Set<string>();
  const acceptedByType: Record<string, number> = {};
  const rejectedByKind: Record<string, number> = {};
  let dupCount = 0;
  const scenarioFiles: ScenarioFile[] = files.map((lines, f) => {
    const sf: ScenarioFile = { month: SCENARIO_MONTHS[f], fileName: `${SCENARIO_MONTHS[f]}.ndjson`, content: '', lines: 0, accepted: 0, duplicates: 0, rejected: 0, validLines: 0, rejections: [], acceptedEvents: [], late: 0 };
    lines.forEach((line, i) => {
      if (line.text === '') return;
      sf.lines++;
      if (line.invalid) {
        sf.rejected++;
        rejectedByKind[line.invalid.kind] = (rejectedByKind[line.invalid.kind] ?? 0) + 1;
        sf.rejections.push({ line: i + 1, ...(line.invalid.eventId !== undefined ? { eventId: line.invalid.eventId } : {}), mentions: line.invalid.mentions, kind: line.invalid.kind });
        return;
      }
      const e = line.event as UpstreamLine;
      sf.validLines++;
      if (acceptedIds.has(e.eventId)) {
        sf.duplicates++;
        dupCount++;
        if (line.dupKind === 'exactSameFile') stats.exactSameFile++;
        else if (line.dupKind === 'exactLaterFile') stats.exactLaterFile++;
        else if (line.dupKind === 'otherPayload') stats.otherPayload++;
        else throw new Error(`scenario: an original line is a duplicate (${e.eventId})`);
        return;
      }
      if (line.dupKind) throw new Error(`scenario: a duplicate line would be accepted (${e.eventId})`);
      acceptedIds.add(e.eventId);
      sf.accepted++;
      if (line.late) sf.late++;
      acceptedByType[e.type] = (acceptedByType[e.type] ?? 0) + 1;
      sf.acceptedEvents.push(e);
    });
    sf.content = lines.map((l) => l.text).join('\n') + '\n';
    return sf;
  });

  const seen = new Set(scenarioFiles.flatMap((f) => f.acceptedEvents.map((e) => e.customerId)));
  if (ghosts.some((g) => seen.has(g))) throw new Error('scenario: a ghost customer was accepted');
  const profiles: Record<string, number> = {};
  for (const id of seen) profiles[profileOf[id]] = (profiles[profileOf[id]] ?? 0) + 1;

  return {
    seed,
    files: scenarioFiles,
    customers: [...seen].sort(),
    ghosts,
    profileOf,
    stats: {
      seed,
      customers: seen.size,
      lines: scenarioFiles.reduce((s, f) => s + f.lines, 0),
      accepted: acceptedIds.size,
      duplicates: dupCount,
      rejected: scenarioFiles.reduce((s, f) => s + f.rejected, 0),
      late: scenarioFiles.reduce((s, f) => s + f.late, 0),
      ...stats,
      acceptedByType,
      rejectedByKind,
      profiles,
    },
  };
}
