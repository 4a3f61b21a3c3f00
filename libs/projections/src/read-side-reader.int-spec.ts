import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { openEmbeddedWriteSide, type WriteSide } from '@crm/ingest';
import { MemoryReadModelStore } from '@crm/read-model';
import { customer360 } from './queries';
import { ReadSide } from './read-side';
import { asQueryable, ReadOnlyReadSideError, ReadSideReader } from './read-side-reader';

const pickup = (i: number, customerId: string) => ({
  line: i + 1,
  value: { eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type: 'ShipmentPickedUp', occurredAt: `2025-02-${String(1 + (i % 25)).padStart(2, '0')}T10:00:00+08:00`, customerId, data: { waybillNo: `W${i}`, product: 'NEXT_DAY', freightFen: 1200, originCity: '深圳', destinationCity: '上海' } },
});
const registered = (i: number, customerId: string) => ({
  line: i + 1,
  value: { eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type: 'CustomerRegistered', occurredAt: '2025-01-05T10:00:00+08:00', customerId, data: { name: customerId, channel: 'ONLINE', city: '深圳' } },
});

describe('ReadSideReader: the views another process projects, read through the read-model store', () => {
  let dir: string;
  let w: WriteSide;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-reader-'));
    w = openEmbeddedWriteSide(dir);
  });
  afterEach(async () => {
    await w.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('follows the checkpoints: waitFor is true once the projector has a position, false while it is stopped; documents equal the read side’s', async () => {
    const shared = new MemoryReadModelStore();
    await w.pipeline.ingest([registered(0, 'R1'), registered(1, 'R2'), pickup(2, 'R1')], { source: 'spec' });
    const rs = await ReadSide.open(w.store, shared);
    const reader = await ReadSideReader.open(w.store, shared, { refreshMs: 10_000, pollMs: 5 });
    try {
      expect(reader.entries().map((e) => e._id).sort()).toEqual(rs.entries().map((e) => e._id).sort());
      expect(reader.collection('customers')).toBe(rs.collection('customers'));
      expect(reader.position).toBe(rs.position);

      await w.pipeline.ingest([pickup(3, 'R2'), pickup(4, 'R2')], { source: 'spec' });
      const head = await w.store.headPosition();
      expect(await reader.waitFor(head, 10_000)).toBe(true);
      expect(reader.readPosition).toBeGreaterThanOrEqual(head);
      expect(await customer360(asQueryable(reader), 'R2')).toEqual(await customer360(rs, 'R2'));
      expect((await customer360(asQueryable(reader), 'R2'))?.shipments).toMatchObject({ total: 2 });

      // The projector stops: a later position is not reached, and the reader says so within the wait.
      await rs.close();
      await w.pipeline.ingest([pickup(5, 'R1')], { source: 'spec' });
      const stopped = await w.store.headPosition();
      expect(await reader.waitFor(stopped, 150)).toBe(false); // nobody projects it
      expect(reader.readPosition).toBeLessThan(stopped);
      await expect(reader.rebuild()).rejects.toBeInstanceOf(ReadOnlyReadSideError);
    } finally {
      await reader.close();
      await rs.close();
    }
  });
});
