import type { EventMetadata } from '@crm/contracts';
import { metadataJson } from './sqlite-event-store';

/** The store hashes and stores this text: it must be byte for byte what JSON.stringify gives without `hash`. */
describe('metadataJson', () => {
  const base = { correlationId: 'c-1', causationId: 'c-1', occurredAt: '2026-03-01T00:00:00+08:00', recordedAt: '2026-11-23T00:00:00.000Z', schemaVersion: 1 };
  const cases: Record<string, unknown> = {
    'the writer shape': { ...base, upstreamEventId: 'c-1', policyVersion: 2, source: 'waybill' },
    'keys in another order': { source: 'x', schemaVersion: 1, occurredAt: 'a', correlationId: 'b', causationId: 'c', recordedAt: 'd' },
    'a hash to leave out': { ...base, hash: 'ab'.repeat(32) },
    'undefined values': { ...base, source: undefined, policyVersion: undefined },
    'strings that need escaping': { ...base, source: 'quote " backslash \\ tab \t 中文 \u2028 \u0001' },
    'numbers JSON writes specially': { ...base, policyVersion: NaN, schemaVersion: -0 },
    'a key outside the metadata contract': { ...base, extra: 'x' },
    'a nested value': { ...base, source: { nested: true } as unknown as string },
    empty: {},
  };
  it.each(Object.entries(cases))('%s', (_, m) => {
    const expected = JSON.stringify({ ...(m as object), hash: undefined });
    expect(metadataJson(m as EventMetadata)).toBe(expected);
  });

  it('ignores inherited keys, as JSON.stringify does', () => {
    const m = Object.assign(Object.create({ inherited: 'x' }) as object, base);
    expect(metadataJson(m as EventMetadata)).toBe(JSON.stringify(m));
  });
});
