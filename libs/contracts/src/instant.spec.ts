import { isCalendarDate, isInstant } from './instant';

/** Oracle: the day exists when a Date set to it keeps its month (setUTCFullYear: no 1900 offset for years 0-99). */
function exists(y: number, m: number, d: number): boolean {
  const date = new Date(0);
  date.setUTCFullYear(y, m - 1, d);
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

describe('isCalendarDate', () => {
  it('agrees with the calendar on every day 01-31 of every month, leap years and century years included', () => {
    let checked = 0;
    for (const y of [0, 4, 1900, 2000, 2023, 2024, 2026, 2100, 9999]) {
      for (let m = 1; m <= 12; m++) {
        for (let d = 1; d <= 31; d++) {
          const day = `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
          expect([day, isCalendarDate(day), isCalendarDate(`${day}T23:59:59+08:00`)]).toEqual([day, exists(y, m, d), exists(y, m, d)]);
          checked++;
        }
      }
    }
    expect(checked).toBe(9 * 12 * 31);
  });

  it.each(['', '2026-02', '2026-1-01', '2026/01/01', '2026-00-01', '2026-13-01', '2026-01-00', '2026-01-32', 'abcd-01-01', '2026-0a-01', '-026-01-01'])(
    'refuses %j',
    (s) => expect(isCalendarDate(s)).toBe(false),
  );

  it('isInstant needs the whole ISO shape with an offset, and a real day', () => {
    expect(isInstant('2024-02-29T00:00:00+08:00')).toBe(true);
    expect(isInstant('2026-02-29T00:00:00+08:00')).toBe(false);
    expect(isInstant('2026-02-28T00:00:00')).toBe(false);
    expect(isInstant('2026-02-28garbage')).toBe(false);
  });
});
