import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { openEmbeddedWriteSide, type WriteSide } from '@crm/ingest';
import { MemoryReadModelStore, type ReadModelStore } from '@crm/read-model';
import { FencedReadModelStore, LeasedProjector, LeaseLostError } from './leased-projector';

async function until(what: string, probe: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function events(from: number, n: number): { line: number; value: Record<string, unknown> }[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    const customerId = `L${i % 5}`;
    const value =
      i < 5
        ? { eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type: 'CustomerRegistered', occurredAt: '2025-01-02T10:00:00+08:00', customerId, data: { name: `c${i}`, channel: 'ONLINE', city: '深圳' } }
        : { eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type: 'ShipmentPickedUp', occurredAt: `2025-01-${String(3 + (i % 20)).padStart(2, '0')}T10:00:00+08:00`, customerId, data: { waybillNo: `W${i}`, product: 'NEXT_DAY', freightFen: 1000 + i, originCity: '深圳', destinationCity: '上海' } };
    return { line: i + 1, value };
  });
}

describe('LeasedProjector (one lease, two instances, a fake clock)', () => {
  let dir: string;
  let w: WriteSide;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-leased-'));
    w = openEmbeddedWriteSide(dir);
  });
  afterEach(async () => {
    await w.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('only the holder writes; a holder that cannot renew stops writing before the lease expires; the standby then takes over', async () => {
    let now = 1_000_000;
    const shared = new MemoryReadModelStore();
    // a's view of the store: its lease renewals can be made to hang (a paused or cut-off process).
    let hang: ((v: boolean) => void) | null = null;
    let hanging = false;
    const flaky: ReadModelStore = new Proxy(shared, {
      get(target, prop, receiver) {
        if (prop === 'acquireLease')
          return (...args: Parameters<ReadModelStore['acquireLease']>) => (hanging ? new Promise<boolean>((r) => (hang = r)) : target.acquireLease(...args));
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const options = { leaseName: 'projector', leaseTtlMs: 10_000, leaseRenewMs: 20, now: () => now, idleMs: 5 };
    const a = new LeasedProjector(w.store, flaky, { ...options, instanceId: 'a' });
    const b = new LeasedProjector(w.store, shared, { ...options, instanceId: 'b' });
    await w.pipeline.ingest(events(0, 40), { source: 'spec' });
    await a.start();
    await b.start();
    const head1 = await w.store.headPosition();
    await until('a to project everything', () => a.currentRole === 'leader' && a.position === head1);
    expect(b.currentRole).toBe('standby');
    expect(b.fenced.commits).toBe(0);
    expect(a.fenced.commits).toBeGreaterThan(0);

    // a's renewals stop answering. Within the TTL but less than one renew interval before its end, a refuses to write.
    hanging = true;
    await until('a renewal to hang', () => hang !== null);
    now += 10_000 - 10;
    await expect(a.fenced.commit('any', [], 1n)).rejects.toBeInstanceOf(LeaseLostError);
    await new Promise((r) => setTimeout(r, 100));
    expect(b.currentRole).toBe('standby'); // not expired yet: nobody else may write either

    // Expired: b takes over and applies what follows; a, still unable to write, commits nothing more.
    now += 20;
    await until('b to lead', () => b.currentRole === 'leader');
    const aCommits = a.fenced.commits;
    await w.pipeline.ingest(events(40, 30), { source: 'spec' });
    const head2 = await w.store.headPosition();
    await until('b to project the new events', () => b.position === head2);
    expect(a.fenced.commits).toBe(aCommits);
    expect(b.fenced.commits).toBeGreaterThan(0);

    // a's renewal finally answers: it lost the lease, so it stands by.
    (hang as unknown as (v: boolean) => void)(false);
    hanging = false;
    await until('a to stand by', () => a.currentRole === 'standby');
    expect(await shared.acquireLease('projector', 'a', 10_000, now)).toBe(false);
    await a.stop();
    await b.stop();
    // b freed the lease on stop: anyone may take it at once.
    expect(await shared.acquireLease('projector', 'c', 10_000, now)).toBe(true);
  });

  it('the fenced store refuses writes without the lease and passes reads through', async () => {
    const inner = new MemoryReadModelStore();
    let allowed = false;
    const fenced = new FencedReadModelStore(inner, () => {
      if (!allowed) throw new LeaseLostError('x');
    });
    await expect(fenced.commit('v', [{ collection: 'c', writes: [{ put: { _id: '1' } }] }], 1n)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(fenced.drop('c')).rejects.toBeInstanceOf(LeaseLostError);
    await expect(fenced.resetCheckpoint('v')).rejects.toBeInstanceOf(LeaseLostError);
    expect(await inner.find('c')).toEqual([]);
    allowed = true;
    await fenced.commit('v', [{ collection: 'c', writes: [{ put: { _id: '1' } }] }], 1n);
    expect(await fenced.find('c')).toEqual([{ _id: '1' }]);
    expect(fenced.commits).toBe(1);
  });
});
