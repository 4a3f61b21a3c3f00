/**
 * The business calendar: every day and month boundary is in Asia/Shanghai (UTC+8, no DST).
 * Instants are epoch milliseconds; months are 'YYYY-MM'; days are 'YYYY-MM-DD'.
 */
export const BUSINESS_OFFSET_MS = 8 * 3600_000;
export const HOUR_MS = 3600_000;
export const DAY_MS = 24 * HOUR_MS;

function parseWithDate(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`not an instant: ${iso}`);
  return ms;
}

/** Two decimal digits at `i`, or -1. */
function two(iso: string, i: number): number {
  const a = iso.charCodeAt(i) - 48;
  const b = iso.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Parses an ISO-8601 instant with an offset (validated upstream), exactly as Date.parse does. The form events carry,
 * `YYYY-MM-DDTHH:mm:ss[.sss](Z|±HH:MM)`, is read digit by digit (Date.parse was ~0.2-0.4 µs of every event an import
 * decides or a rebuild folds); anything else, or a field out of range, goes to Date.parse. calendar.spec compares the two.
 */
export function parseInstant(iso: string): number {
  const n = iso.length;
  if (n < 20 || iso.charCodeAt(4) !== 45 || iso.charCodeAt(7) !== 45 || iso.charCodeAt(10) !== 84 || iso.charCodeAt(13) !== 58 || iso.charCodeAt(16) !== 58) return parseWithDate(iso);
  const hi = two(iso, 0);
  const lo = two(iso, 2);
  const month = two(iso, 5);
  const day = two(iso, 8);
  const hour = two(iso, 11);
  const minute = two(iso, 14);
  const second = two(iso, 17);
  let p = 19;
  let ms = 0;
  if (iso.charCodeAt(p) === 46 /* . */) {
    const a = two(iso, 20);
    const c = iso.charCodeAt(22) - 48;
    if (a < 0 || c < 0 || c > 9) return parseWithDate(iso);
    ms = a * 10 + c;
    p = 23;
  }
  let offsetMin = 0;
  const z = iso.charCodeAt(p);
  if (z === 90 /* Z */ && n === p + 1) {
    // UTC: no offset
  } else if ((z === 43 || z === 45) /* + - */ && n === p + 6 && iso.charCodeAt(p + 3) === 58) {
    const oh = two(iso, p + 1);
    const om = two(iso, p + 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return parseWithDate(iso);
    offsetMin = (z === 43 ? 1 : -1) * (oh * 60 + om);
  } else return parseWithDate(iso);
  if (hi < 0 || lo < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return parseWithDate(iso);
  const year = hi * 100 + lo;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (year < 100 || day > DAYS_IN_MONTH[month - 1] + (leap ? 1 : 0)) return parseWithDate(iso);
  // Days since 1970-01-01 of the civil date (H. Hinnant's days_from_civil; years ≥ 100 here, so no era below 0).
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const days = era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
  return ((days * 24 + hour) * 60 + minute - offsetMin) * 60_000 + second * 1000 + ms;
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
let memoInstant = NaN;
let memoInstantText = '';
let memoInstantDay = NaN;
let memoInstantDate = '';
/**
 * An instant as ISO-8601 in business time, e.g. 2026-04-01T00:00:00.000+08:00. Memoised (a fact's derived events
 * mostly format the same instant), and the date part per day: the time of day from digit tables costs ~0.1 µs
 * where Date#toISOString took ~0.5 µs, for every fact an import decides.
 */
export function formatInstant(ms: number): string {
  if (ms !== memoInstant) {
    const local = ms + BUSINESS_OFFSET_MS;
    if (!Number.isInteger(local)) return new Date(local).toISOString().slice(0, 23) + '+08:00'; // fractions and NaN as Date reads them (or its RangeError)
    const day = Math.floor(local / DAY_MS);
    if (day !== memoInstantDay) {
      memoInstantDate = new Date(day * DAY_MS).toISOString().slice(0, 11);
      memoInstantDay = day;
    }
    const inDay = local - day * DAY_MS;
    const milli = inDay % 1000;
    const seconds = (inDay - milli) / 1000;
    const minutes = Math.floor(seconds / 60);
    memoInstantText = `${memoInstantDate}${TWO_DIGITS[Math.floor(minutes / 60)]}:${TWO_DIGITS[minutes % 60]}:${TWO_DIGITS[seconds % 60]}.${THREE_DIGITS[milli]}+08:00`;
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
