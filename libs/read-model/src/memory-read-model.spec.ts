import { handOver, MemoryReadModelStore } from './memory-read-model';
import type { Doc } from './port';

describe('MemoryReadModelStore: documents handed over by their maker', () => {
  it('keeps a handed-over document itself, deep-frozen, and answers with it', async () => {
    const store = new MemoryReadModelStore();
    const doc: Doc = { _id: 'a', risk: { level: 'HIGH', signals: ['SLA_BREACH'] }, months: [{ m: '2026-05', fen: 1 }] };
    await store.commit('p', [{ collection: 'c', writes: [{ put: handOver(doc) }] }], 1n);
    const got = (await store.findById('c', 'a'))!;
    expect(got).toBe(doc);
    for (const o of [got, got.risk, (got.risk as { signals: string[] }).signals, got.months, (got.months as object[])[0]]) expect(Object.isFrozen(o)).toBe(true);
    expect(() => {
      (doc.risk as { level: string }).level = 'LOW';
    }).toThrow(TypeError);
    expect(await store.findById('c', 'a')).toEqual({ _id: 'a', risk: { level: 'HIGH', signals: ['SLA_BREACH'] }, months: [{ m: '2026-05', fen: 1 }] });
  });

  it('copies a document that was not handed over: changing the original afterwards changes nothing stored', async () => {
    const store = new MemoryReadModelStore();
    const doc: Doc = { _id: 'a', risk: { level: 'HIGH' } };
    await store.commit('p', [{ collection: 'c', writes: [{ put: doc }] }], 1n);
    (doc.risk as { level: string }).level = 'LOW';
    expect(Object.isFrozen(doc)).toBe(false);
    expect(await store.findById('c', 'a')).toEqual({ _id: 'a', risk: { level: 'HIGH' } });
  });

  it('stores what a copy would store when the document holds undefined (dropped, null inside arrays)', async () => {
    const store = new MemoryReadModelStore();
    await store.commit('p', [{ collection: 'c', writes: [{ put: handOver({ _id: 'a', gone: undefined, list: [1, undefined], nested: { x: 1, y: undefined } }) }] }], 1n);
    const got = (await store.findById('c', 'a'))!;
    expect(got).toStrictEqual({ _id: 'a', list: [1, null], nested: { x: 1 } });
    expect(Object.isFrozen(got) && Object.isFrozen(got.nested) && Object.isFrozen(got.list)).toBe(true);
  });

  it('checks a handed-over document as any other: a bad one fails the whole commit', async () => {
    const store = new MemoryReadModelStore();
    for (const bad of [{ _id: 'b', n: Number.NaN }, { _id: 'b', nested: { 'a.b': 1 } }, { _id: 'b', list: [[1]] }, { _id: 'b', m: new Map() }]) {
      await expect(store.commit('p', [{ collection: 'c', writes: [{ put: handOver({ _id: 'a' }) }, { put: handOver(bad as Doc) }] }], 1n)).rejects.toThrow(TypeError);
    }
    expect(await store.count('c')).toBe(0);
    expect(await store.checkpoint('p')).toBeNull();
  });
});

describe('MemoryReadModelStore: filters answered from the index keys', () => {
  const docs: Doc[] = [
    { _id: 'a', managerId: 'M1', tier: 'VIP', risk: { level: 'HIGH' } },
    { _id: 'b', managerId: 'M1', tier: 'REGULAR', risk: { level: 'LOW' } },
    { _id: 'c', managerId: 'M1', tier: ['VIP', 'MIDDLE'], risk: [{ level: 'HIGH' }] },
    { _id: 'd', managerId: 'M1', tier: { nested: 'VIP' }, risk: { level: 'MEDIUM' } },
    { _id: 'e', managerId: 'M1' },
    { _id: 'f', managerId: ['M1', 'M2'], tier: 'VIP', risk: { level: 'HIGH' } },
    { _id: 'g', managerId: 'M2', tier: 'VIP', risk: { level: 'HIGH' } },
    { _id: 'h', managerId: 'M1', tier: 1, risk: { level: null } },
    { _id: 'i', managerId: 'M1', tier: '1', risk: { level: true } },
  ];
  const filters = [
    { managerId: 'M1' },
    { managerId: 'M1', tier: 'VIP' },
    { managerId: 'M1', tier: { $in: ['VIP', 'REGULAR'] } },
    { managerId: { $eq: 'M1' }, 'risk.level': { $in: ['HIGH', 'MEDIUM'] } },
    { managerId: 'M1', tier: { $in: [] } },
    { managerId: 'M1', tier: 1 },
    { managerId: 'M1', tier: '1' },
    { managerId: 'M1', 'risk.level': true },
    { managerId: 'M1', tier: null },
    { managerId: 'M2', tier: { $in: ['VIP'] }, 'risk.level': 'HIGH' },
  ];

  it('answer as mingo does over the same documents without indexes (arrays, objects, missing fields, types)', async () => {
    const indexed = new MemoryReadModelStore();
    await indexed.ensureIndexes('c', [{ managerId: 1, tier: 1 }, { managerId: 1, 'risk.level': 1 }]);
    const plain = new MemoryReadModelStore();
    for (const store of [indexed, plain]) await store.commit('p', [{ collection: 'c', writes: docs.map((d) => ({ put: d })) }], 1n);
    for (const filter of filters) {
      const expected = (await plain.find('c', filter, { sort: { _id: 1 } })).map((d) => d._id);
      expect([filter, (await indexed.find('c', filter, { sort: { _id: 1 } })).map((d) => d._id)]).toEqual([filter, expected]);
      expect([filter, await indexed.count('c', filter)]).toEqual([filter, expected.length]);
    }
    expect((await indexed.find('c', { managerId: 'M1', tier: 'VIP' })).map((d) => d._id).sort()).toEqual(['a', 'c', 'f']);
  });
});
