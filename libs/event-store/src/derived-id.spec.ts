import { v5 } from 'uuid';
import { derivedEventId, DERIVED_ID_NAMESPACE, eventIdOf } from './derived-id';

describe('derivedEventId', () => {
  it.each([['0b9f6c1e-4a8e-4c7e-9a51-3d2f0e6a7b10', 0], ['close:2026-03:C000123', 3], ['sweep:2026-09-01T00:00:00+08:00:客户-7', 12]])('is uuid v5 of "%s#%i"', (cause, i) => {
    expect(derivedEventId(cause, i)).toBe(v5(`${cause}#${i}`, DERIVED_ID_NAMESPACE));
    expect(eventIdOf({ derivedFrom: cause, index: i })).toBe(v5(`${cause}#${i}`, DERIVED_ID_NAMESPACE));
  });

  it('takes a plain id as it is', () => {
    expect(eventIdOf('0b9f6c1e-4a8e-4c7e-9a51-3d2f0e6a7b10')).toBe('0b9f6c1e-4a8e-4c7e-9a51-3d2f0e6a7b10');
  });

  it('grows its buffer for a long name', () => {
    const cause = 'sweep:' + '客'.repeat(200);
    expect(derivedEventId(cause, 1)).toBe(v5(`${cause}#1`, DERIVED_ID_NAMESPACE));
  });
});
