import type { EventMetadata } from '@crm/contracts';
import { layoutSize, metadataJson, metadataLayout, metadataText } from './sqlite-event-store';

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

  const keys = ['correlationId', 'causationId', 'occurredAt', 'recordedAt', 'schemaVersion', 'upstreamEventId', 'policyVersion', 'source'];
  const plain = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

  it('posts the writer shape as a layout and its values, which the append thread turns back into the same text', () => {
    const writer = cases['the writer shape'] as EventMetadata;
    const derived = { ...base, policyVersion: 1 } as EventMetadata;
    const values: (string | number)[] = ["not this event's"];
    const a = metadataLayout(writer, 'e-1', values, []);
    const b = metadataLayout(derived, 'e-2', values, []);
    const c = metadataLayout({ ...base, source: 'tab \t' } as EventMetadata, 'e-3', values, []);
    expect([typeof a, typeof b, typeof c]).toEqual(['number', 'number', 'number']);
    expect(values.length).toBe(1 + 8 + 6 + 6);
    expect(metadataText(keys, plain, a as number, values, 1, 'e-1', [])).toBe(JSON.stringify(writer));
    expect(metadataText(keys, plain, b as number, values, 9, 'e-2', [])).toBe(JSON.stringify(derived));
    expect(metadataText(keys, plain, c as number, values, 15, 'e-3', [])).toBe(JSON.stringify({ ...base, source: 'tab \t' }));
  });

  it("leaves out the values equal to the event's id or to the last value of their key, and the text comes back the same", () => {
    // A fact (its id is its cause), the events it derived (another id, the same cause), then another fact.
    const fact = (id: string, occurredAt: string) => ({ correlationId: id, causationId: id, occurredAt, recordedAt: 'r', schemaVersion: 1, upstreamEventId: id, source: 'waybill' });
    const derived = (cause: string, occurredAt: string) => ({ correlationId: cause, causationId: cause, occurredAt, recordedAt: 'r', schemaVersion: 1, upstreamEventId: cause, policyVersion: 1 });
    const events: [string, EventMetadata][] = [
      ['f-1', fact('f-1', 'o1')],
      ['d-1', derived('f-1', 'o1')],
      ['d-2', { ...derived('f-1', 'o2'), source: 'hotline' }],
      ['x', { correlationId: 'b', recordedAt: 'z', occurredAt: 'o2' } as unknown as EventMetadata], // out of order: text, and `recent` left alone
      ['f-2', fact('f-2', 'o2')],
    ];
    const values: (string | number)[] = [];
    const recent: (string | number | undefined)[] = [];
    const layouts = events.map(([id, m]) => metadataLayout(m, id, values, recent));
    expect(typeof layouts[3]).toBe('string');
    // Only what is new: f-1 its time, recordedAt, schema version and source; d-1 its policy version; d-2 its time
    // and source; f-2 its source (o2 was the last time).
    expect(values).toEqual(['o1', 'r', 1, 'waybill', 1, 'o2', 'hotline', 'waybill']);
    const back: (string | number | undefined)[] = [];
    let at = 0;
    events.forEach(([id, m], i) => {
      const layout = layouts[i];
      if (typeof layout === 'string') return expect(layout).toBe(JSON.stringify(m));
      expect(metadataText(keys, plain, layout, values, at, id, back)).toBe(JSON.stringify(m));
      at += layoutSize(layout);
    });
    expect(at).toBe(values.length);
  });

  it('falls back to the JSON text, taking back the values it pushed, when the keys are out of order', () => {
    const values: (string | number)[] = [];
    const m = { correlationId: 'c', causationId: 'c', recordedAt: 'r', occurredAt: 'o', schemaVersion: 1 } as EventMetadata;
    expect(metadataLayout(m, 'c', values, [])).toBe(JSON.stringify(m));
    expect(values).toEqual([]);
  });
});
