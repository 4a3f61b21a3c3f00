/**
 * Time for the demo generator. Instants are kept as "local seconds": seconds since 1970-01-01 of the
 * Beijing wall clock read as if it were UTC, so day and month arithmetic is plain arithmetic, and
 * formatting appends the fixed `+08:00` offset (Asia/Shanghai has no daylight saving).
 */

export const DAY = 86_400;
export const HOUR = 3_600;

const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function parseMonth(label: string, what: string): { year: number; month: number } {
  const m = MONTH_RE.exec(label);
  if (!m) throw new RangeError(`${what} must be a month YYYY-MM, got ${JSON.stringify(label)}`);
  return { year: Number(m[1]), month: Number(m[2]) };
}

/** `YYYY-MM-DDTHH:mm:ss+08:00` for a local-seconds instant. */
export function formatLocal(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 19) + '+08:00';
}

/** Lunar new year (春节) dates; the courier network slows down for about three weeks around them. */
const SPRING_FESTIVAL: Record<number, string> = {
  2020: '2020-01-25',
  2021: '2021-02-12',
  2022: '2022-02-01',
  2023: '2023-01-22',
  2024: '2024-02-10',
  2025: '2025-01-29',
  2026: '2026-02-17',
  2027: '2027-02-06',
  2028: '2028-01-26',
  2029: '2029-02-13',
  2030: '2030-02-03',
  2031: '2031-01-23',
  2032: '2032-02-11',
};

/** Mon..Sun relative volume (0 = Sunday as in getUTCDay); averages 1. */
const WEEKDAY = [0.5, 1.2, 1.15, 1.1, 1.1, 1.15, 0.8];
/** Month base level (Jan..Dec). */
const MONTH_LEVEL = [1.0, 1.0, 1.0, 1.0, 1.0, 1.05, 0.95, 0.95, 1.0, 1.0, 1.15, 1.08];
/** Double-11 (双十一) ramp, 8..17 November: the week around 11-11 runs at about ×2.5. */
const DOUBLE_11: Record<number, number> = { 8: 1.8, 9: 2.0, 10: 2.6, 11: 3.2, 12: 3.0, 13: 2.6, 14: 2.2, 15: 1.8, 16: 1.5, 17: 1.3 };

/** Relative parcel volume of one calendar day (weekday × season × holidays). */
export function dayFactor(year: number, month: number, day: number, weekday: number): number {
  let f = WEEKDAY[weekday] * MONTH_LEVEL[month - 1];
  if (month === 11 && DOUBLE_11[day]) f = WEEKDAY[weekday] * DOUBLE_11[day];
  else if (month === 12 && day >= 10 && day <= 12) f *= 1.4; // 双十二
  else if (month === 6 && day >= 14 && day <= 18) f *= 1.35; // 618
  else if (month === 10 && day <= 7) f *= 0.6; // National Day golden week
  const sf = SPRING_FESTIVAL[year];
  if (sf) {
    const diff = Math.round((Date.UTC(year, month - 1, day) - Date.parse(sf)) / 86_400_000);
    if (diff >= -7 && diff <= 7) f *= 0.25;
    else if (diff >= -14 && diff <= 14) f *= 0.55;
    else if (diff >= -24 && diff <= 22) f *= 0.8;
  }
  return f;
}

/** The generated range: months `from`..`to` inclusive, days numbered from 0 at `from`-01. */
export class Calendar {
  readonly startT: number;
  readonly endT: number;
  readonly days: number;
  readonly months: number;
  readonly monthLabels: string[] = [];
  /** First day index of each month, plus the total day count at the end. */
  readonly monthStartDay: number[] = [];
  readonly dayFactor: Float64Array;
  private readonly monthStartT: number[] = [];

  constructor(from: string, to: string) {
    const f = parseMonth(from, 'from');
    const t = parseMonth(to, 'to');
    const first = f.year * 12 + f.month - 1;
    const last = t.year * 12 + t.month - 1;
    if (last < first) throw new RangeError(`to (${to}) must not be before from (${from})`);
    this.months = last - first + 1;
    for (let i = 0; i <= this.months; i++) {
      const y = Math.floor((first + i) / 12);
      const m = (first + i) % 12;
      const start = Date.UTC(y, m, 1) / 1000;
      this.monthStartT.push(start);
      if (i < this.months) this.monthLabels.push(`${y}-${String(m + 1).padStart(2, '0')}`);
    }
    this.startT = this.monthStartT[0];
    this.endT = this.monthStartT[this.months];
    this.days = (this.endT - this.startT) / DAY;
    for (const s of this.monthStartT) this.monthStartDay.push((s - this.startT) / DAY);
    this.dayFactor = new Float64Array(this.days);
    for (let d = 0; d < this.days; d++) {
      const date = new Date((this.startT + d * DAY) * 1000);
      this.dayFactor[d] = dayFactor(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCDay());
    }
  }

  dayStartT(day: number): number {
    return this.startT + day * DAY;
  }
  dayOf(t: number): number {
    return Math.floor((t - this.startT) / DAY);
  }
  /** Index of the month holding `t` (may be ≥ months for instants after the range). */
  monthOf(t: number): number {
    let lo = 0;
    let hi = this.months;
    if (t >= this.endT) return this.months;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.monthStartT[mid] <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
  /** `YYYY-MM-DD` of a day index. */
  date(day: number): string {
    return new Date((this.startT + day * DAY) * 1000).toISOString().slice(0, 10);
  }
}
