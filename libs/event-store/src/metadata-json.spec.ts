import type { EventMetadata } from '@crm/contracts';
import { metadataJson, metadataLayout, metadataText } from './sqlite-event-store';

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

  it('posts the writer shape as a layout and its values, which the append thread turns back into the same text', () => {
    const writer = cases['the writer shape'] as EventMetadata;
    const derived = { ...base, policyVersion: 1 } as EventMetadata;
    const values: (string | number)[] = ['not this event\'s'];
    const a = metadataLayout(writer, values);
    const b = metadataLayout(derived, values);
    const c = metadataLayout({ ...base, source: 'tab \t' } as EventMetadata, values);
    expect([typeof a, typeof b, typeof c]).toEqual(['number', 'number', 'number']);
    expect(values.length).toBe(1 + 8 + 6 + 6);
    const keys = ['correlationId', 'causationId', 'occurredAt', 'recordedAt', 'schemaVersion', 'upstreamEventId', 'policyVersion', 'source'];
    expect(metadataText(keys, /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/, a as number, values, 1)).toBe(JSON.stringify(writer));
    expect(metadataText(keys, /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/, b as number, values, 9)).toBe(JSON.stringify(derived));
    expect(metadataText(keys, /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/, c as number, values, 15)).toBe(JSON.stringify({ ...base, source: 'tab \t' }));
  });

  it('falls back to the JSON text, taking back the values it pushed, when the keys are out of order', () => {
    const values: (string | number)[] = [];
    const m = { correlationId: 'c', causationId: 'c', recordedAt: 'r', occurredAt: 'o', schemaVersion: 1 } as EventMetadata;
    expect(metadataLayout(m, values)).toBe(JSON.stringify(m));
    expect(values).toEqual([]);
  });
});
