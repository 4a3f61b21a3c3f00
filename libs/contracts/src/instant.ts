import { ValidateBy, type ValidationOptions } from 'class-validator';
import { ISO_WITH_OFFSET } from './upstream';

/** The YYYY-MM-DD at the start of an ISO string exists (Date.parse would roll 02-31 over to March). */
export function isCalendarDate(iso: string): boolean {
  const y = Number(iso.slice(0, 4));
  const m = Number(iso.slice(5, 7));
  const d = Number(iso.slice(8, 10));
  return d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate() && !Number.isNaN(Date.parse(iso));
}

/** An ISO-8601 instant with an offset that names a real calendar date and time. */
export function isInstant(v: unknown): v is string {
  return typeof v === 'string' && ISO_WITH_OFFSET.test(v) && isCalendarDate(v);
}

/** class-validator: the property is an instant (`isInstant`). */
export function IsInstant(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isInstant', validator: { validate: isInstant, defaultMessage: (a) => `${a?.property ?? 'value'} must be a real ISO-8601 instant with an offset, e.g. 2026-03-03T00:00:00+08:00` } }, options);
}
