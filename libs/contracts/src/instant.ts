import { ValidateBy, type ValidationOptions } from 'class-validator';
import { ISO_WITH_OFFSET } from './upstream';

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The value of `n` decimal digits of `s` from `at`, or -1 if one of them is not a digit. */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * The YYYY-MM-DD at the start of an ISO string names a day that exists (no 02-30, 02-29 only in leap years).
 * Only those ten characters are read: the caller checks the rest of the string's shape (ISO_WITH_OFFSET, DATE).
 * Arithmetic, not Date: this runs once per ingested message (Date.parse and a Date cost ~0.5 µs each).
 */
export function isCalendarDate(iso: string): boolean {
  if (iso.length < 10 || iso.charCodeAt(4) !== 45 || iso.charCodeAt(7) !== 45) return false; // '-'
  const y = digits(iso, 0, 4);
  const m = digits(iso, 5, 2);
  const d = digits(iso, 8, 2);
  if (y < 0 || m < 1 || m > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= (m === 2 && leap ? 29 : DAYS_IN_MONTH[m - 1]);
}

/** An ISO-8601 instant with an offset that names a real calendar date and time. */
export function isInstant(v: unknown): v is string {
  return typeof v === 'string' && ISO_WITH_OFFSET.test(v) && isCalendarDate(v);
}

/** class-validator: the property is an instant (`isInstant`). */
export function IsInstant(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isInstant', validator: { validate: isInstant, defaultMessage: (a) => `${a?.property ?? 'value'} must be a real ISO-8601 instant with an offset, e.g. 2026-03-03T00:00:00+08:00` } }, options);
}
