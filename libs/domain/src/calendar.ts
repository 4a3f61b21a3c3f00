/**
 * The business calendar: every day and month boundary is in Asia/Shanghai (UTC+8, no DST).
 * Instants are epoch milliseconds; months are 'YYYY-MM'; days are 'YYYY-MM-DD'.
 */
export const BUSINESS_OFFSET_MS = 8 * 3600_000;
export const HOUR_MS = 3600_000;
export const DAY_MS = 24 * HOUR_MS;

/** Parse an ISO-8601 instant with an offset (validated upstream). */
export function parseInstant(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`not an instant: ${iso}`);
  return ms;
}

let memoInstant = NaN;
let memoInstantText = '';
/**
 * An instant as ISO-8601 in business time, e.g. 2026-04-01T00:00:00.000+08:00 (memoised: a fact's derived
 * events mostly format the same instant).
 */
export function formatInstant(ms: number): string {
  if (ms !== memoInstant) {
    memoInstantText = new Date(ms + BUSINESS_OFFSET_MS).toISOString().slice(0, 23) + '+08:00';
    memoInstant = ms;
  }
  return memoInstantText;
}

let memoDay = NaN;
let memoDate = '';
/** The UTC+8 calendar date of an instant, YYYY-MM-DD (memoised: consecutive events mostly share a day). */
export function dayOf(ms: number): string {
  const day = Math.floor((ms + BUSINESS_OFFSET_MS) / DAY_MS);
  if (day !== memoDay) {
    memoDate = new Date(day * DAY_MS).toISOString().slice(0, 10);
    memoDay = day;
  }
  return memoDate;
}

export function monthOf(ms: number): string {
  return dayOf(ms).slice(0, 7);
}

function splitMonth(month: string): [number, number] {
  return [Number(month.slice(0, 4)), Number(month.slice(5, 7))];
}

/** The month `n` months after (negative: before) `month`. */
export function addMonths(month: string, n: number): string {
  const [y, m] = splitMonth(month);
  const idx = y * 12 + (m - 1) + n;
  return `${String(Math.floor(idx / 12)).padStart(4, '0')}-${String((idx % 12) + 1).padStart(2, '0')}`;
}

/** 00:00 UTC+8 on the 1st of `month`. */
export function startOfMonth(month: string): number {
  const [y, m] = splitMonth(month);
  return Date.UTC(y, m - 1, 1) - BUSINESS_OFFSET_MS;
}

/** 00:00 UTC+8 on the 1st of the month after `month`: when a close of `month` takes effect. */
export function startOfNextMonth(month: string): number {
  return startOfMonth(addMonths(month, 1));
}

/** Fen as a readable amount in 元: 1234000 → "12,340.00 元". */
export function formatYuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  const yuan = Math.floor(abs / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${yuan}.${String(abs % 100).padStart(2, '0')} 元`;
}
