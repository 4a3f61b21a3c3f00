import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { MemoryReadModelStore } from '@crm/read-model';
import { describeReadModelContract } from './read-model.contract';

describeReadModelContract('MemoryReadModelStore', { open: async () => new MemoryReadModelStore() });

describe('MemoryReadModelStore (beyond the port)', () => {
  it('hands out frozen documents: a caller cannot change the store through a result', async () => {
    const store = new MemoryReadModelStore();
    await store.commit('p', [{ collection: 'c', writes: [{ put: { _id: 'a', risk: { level: 'HIGH' }, tags: ['x'] } }] }], 1n);
    const doc = (await store.findById('c', 'a'))!;
    expect(Object.isFrozen(doc)).toBe(true);
    expect(() => {
      (doc.risk as { level: string }).level = 'LOW';
    }).toThrow(TypeError);
    expect(() => (doc.tags as string[]).push('y')).toThrow(TypeError);
    expect(await store.findById('c', 'a')).toEqual({ _id: 'a', risk: { level: 'HIGH' }, tags: ['x'] });
    const copy = { ...doc, tier: 'VIP' }; // the way to change one
    expect(copy.tier).toBe('VIP');
  });

  it('rejects a batch with a value MongoDB could not store, and applies none of it', async () => {
    const store = new MemoryReadModelStore();
    const bad = [
      { _id: 'b', n: Number.NaN },
      { _id: 'b', n: 10n },
      { _id: 'b', 'a.b': 1 },
      { _id: 'b', $set: 1 },
      { _id: 'b', m: new Map() },
      { _id: 7 },
    ];
    for (const put of bad) {
      await expect(
        store.commit('p', [{ collection: 'c', writes: [{ put: { _id: 'a' } }, { put: put as never }] }], 1n),
      ).rejects.toThrow(TypeError);
    }
    expect(await store.count('c')).toBe(0);
    expect(await store.checkpoint('p')).toBeNull();
    await expect(store.commit('p', [{ collection: '_private', writes: [] }], 1n)).rejects.toThrow(TypeError);
  });

  it('snapshot / restore keeps collections, indexes and checkpoints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-rm-snap-'));
    try {
      const store = new MemoryReadModelStore();
      const docs = Array.from({ length: 500 }, (_, i) => ({
        _id: `C${String(i).padStart(4, '0')}`,
        name: `客户${i}`,
        managerId: `M-${i % 7}`,
        risk: { level: i % 3 === 0 ? 'HIGH' : 'LOW' },
        fen: Number.MAX_SAFE_INTEGER - i,
      }));
      await store.ensureIndexes('customers', [{ managerId: 1, 'risk.level': 1 }]);
      await store.commit('view', [{ collection: 'customers', writes: docs.map((put) => ({ put })) }], 123456789012345678901n);
      await store.commit('other', [{ collection: 'empty', writes: [{ put: { _id: 'x' } }, { delete: 'x' }] }], 5n);
      const file = join(dir, 'read-model.snapshot');
      await store.snapshot(file);

      const back = await MemoryReadModelStore.restore(file);
      expect(await back.listCollections()).toEqual(['customers', 'empty']);
      expect(await back.checkpoint('view')).toEqual(await store.checkpoint('view'));
      expect(await back.checkpoint('other')).toEqual(await store.checkpoint('other'));
      const q = { managerId: 'M-3', 'risk.level': 'HIGH' };
      expect(await back.find('customers', q, { sort: { fen: 1 } })).toEqual(await store.find('customers', q, { sort: { fen: 1 } }));
      expect(await back.findById('customers', 'C0499')).toEqual(docs[499]);
      expect(Object.isFrozen(await back.findById('customers', 'C0001'))).toBe(true);
      await back.commit('view', [{ collection: 'customers', writes: [{ put: { ...docs[3], managerId: 'M-0' } }] }], 1n);
      expect(await back.count('customers', { managerId: 'M-3' })).toBe((await store.count('customers', { managerId: 'M-3' })) - 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
