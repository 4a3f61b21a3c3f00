export interface FieldDifference {
  /** Dotted path (`data.inputs.window.2026-03`); '' for the value itself. */
  field: string;
  expected: unknown;
  found: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every leaf where `found` differs from `expected`, with its path (keys in any order; arrays by index). */
export function diffValues(expected: unknown, found: unknown, path = ''): FieldDifference[] {
  if (Object.is(expected, found)) return [];
  const join = (k: string | number): string => (path === '' ? String(k) : `${path}.${k}`);
  if (isObject(expected) && isObject(found)) {
    const out: FieldDifference[] = [];
    for (const k of new Set([...Object.keys(expected), ...Object.keys(found)])) out.push(...diffValues(expected[k], found[k], join(k)));
    return out;
  }
  if (Array.isArray(expected) && Array.isArray(found)) {
    const out: FieldDifference[] = [];
    for (let i = 0; i < Math.max(expected.length, found.length); i++) out.push(...diffValues(expected[i], found[i], join(i)));
    return out;
  }
  return [{ field: path, expected, found }];
}
