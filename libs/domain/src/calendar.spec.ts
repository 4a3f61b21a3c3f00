import { formatInstant, parseInstant } from './calendar';

/** Date.parse, or the error parseInstant throws. */
const reference = (iso: string): number | string => {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? 'error' : ms;
};
const fast = (iso: string): number | string => {
  try {
    return parseInstant(iso);
  } catch {
    return 'error';
  }
};

describe('parseInstant reads instants exactly as Date.parse does', () => {
  it('edge cases: offsets, fractions, leap days, out-of-range fields, other forms', () => {
    const cases = [
      '2026-03-01T10:00:00+08:00', '2026-03-01T10:00:00.123+08:00', '2026-03-01T00:00:00.000+08:00', '2026-02-28T23:59:59.999Z',
      '2026-03-01T10:00:00Z', '2026-03-01T10:00:00-05:30', '2026-03-01T10:00:00+14:00', '2026-03-01T10:00:00.5Z', '2026-03-01T10:00:00.12Z',
      '2026-03-01T10:00:00.1234Z', '2024-02-29T12:00:00+08:00', '2025-02-29T12:00:00+08:00', '2000-02-29T00:00:00Z', '1900-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z', '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z', '2026-01-00T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T23:60:00Z',
      '2026-01-01T23:59:60Z', '2026-01-01T10:00:00+24:00', '2026-01-01T10:00:00+08:60', '2026-01-01T10:00:00+0800', '2026-01-01 10:00:00Z',
      '2026-01-01t10:00:00z', '2026-01-01T10:00Z', '2026-01-01', '0099-01-01T00:00:00Z', '0100-01-01T00:00:00Z', '+002026-01-01T00:00:00Z',
      '2026-01-01T10:00:00+08:00x', '2026-0a-01T10:00:00Z', 'not a date', '', '9999-12-31T23:59:59.999Z', '1970-01-01T00:00:00.000+00:00',
    ];
    for (const iso of cases) expect([iso, fast(iso)]).toEqual([iso, reference(iso)]);
  });

  it('100,000 random instants in the recorded forms', () => {
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const p2 = (x: number) => String(x).padStart(2, '0');
    for (let i = 0; i < 100_000; i++) {
      const ms = rnd(3) === 0 ? '' : `.${String(rnd(1000)).padStart(3, '0')}`;
      const zone = rnd(3) === 0 ? 'Z' : `${rnd(2) ? '+' : '-'}${p2(rnd(15))}:${p2(rnd(4) * 15)}`;
      const iso = `${1970 + rnd(100)}-${p2(1 + rnd(12))}-${p2(1 + rnd(31))}T${p2(rnd(24))}:${p2(rnd(60))}:${p2(rnd(60))}${ms}${zone}`;
      if (fast(iso) !== reference(iso)) expect([iso, fast(iso)]).toEqual([iso, reference(iso)]);
    }
  });
});

describe('formatInstant writes business time as Date#toISOString does, shifted by 8 hours', () => {
  const reference = (ms: number): string => new Date(ms + 8 * 3600_000).toISOString().slice(0, 23) + '+08:00';

  it('edge cases: day and year boundaries in UTC+8, leap days, milliseconds, before 1970, fractions', () => {
    const cases = [
      Date.parse('2026-03-31T23:59:59.999+08:00'), Date.parse('2026-04-01T00:00:00+08:00'), Date.parse('2026-03-31T16:00:00Z'),
      Date.parse('2025-12-31T23:59:59+08:00'), Date.parse('2024-02-29T12:34:56.789+08:00'), 0, -1, -86_400_001, 1.5, -0.5,
      Date.parse('9999-12-31T15:59:59.999Z'),
    ];
    for (const ms of cases) expect([ms, formatInstant(ms)]).toEqual([ms, reference(ms)]);
    expect(formatInstant(Date.parse('2026-04-01T00:00:00+08:00'))).toBe('2026-04-01T00:00:00.000+08:00');
  });

  it('100,000 random instants, in and out of order (the day is memoised)', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let ms = Date.parse('2020-01-01T00:00:00+08:00');
    for (let i = 0; i < 100_000; i++) {
      ms = rnd(4) === 0 ? rnd(2_000_000_000) * 1000 + rnd(1000) : ms + rnd(7_200_000);
      if (formatInstant(ms) !== reference(ms)) expect([ms, formatInstant(ms)]).toEqual([ms, reference(ms)]);
    }
  });

  it('an invalid instant is refused as Date refuses it', () => {
    expect(() => formatInstant(NaN)).toThrow(RangeError);
  });
});
