import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { customerStream, verifyChain, type StoredEvent } from '@crm/event-store';
import { openEmbeddedWriteSide, type RawInput } from '@crm/ingest';
import { writeBenchFile } from '../bench/generate-events';
import { numberedLines } from '../support/ndjson';

jest.setTimeout(120_000);

/**
 * Two write sides on one data directory (two processes' worth: separate connections and append threads) import
 * interleaved halves of one history for the same customers at the same time, in small batches, so their appends
 * keep meeting each other's revisions. The pipeline keeps one batch appending while it decides the next; on a
 * conflict it redoes that batch and every later one that did not hold.
 */
describe('two writers on the same customers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crm-concurrent-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The lines of a generated history (`count` events over `customers`), numbered as an import numbers them. */
  async function historyLines(name: string, count: number, customers: number, seed: number): Promise<RawInput[]> {
    const file = join(dir, name);
    await writeBenchFile(file, count, customers, seed);
    return numberedLines(readFileSync(file, 'utf8'));
  }

  it('records every fact exactly once, with whole revisions and intact hash chains, however the appends interleave', async () => {
    const lines = await historyLines('events.ndjson', 6_000, 40, 7);
    const a = openEmbeddedWriteSide(join(dir, 'data'));
    const b = openEmbeddedWriteSide(join(dir, 'data'));
    const conflicts = { a: 0, b: 0 };
    for (const [w, key] of [[a, 'a'], [b, 'b']] as const) {
      const handle = w.writer.handle.bind(w.writer);
      // Counted, not changed: the redo path must actually run for this test to mean anything.
      w.writer.handle = (commands) => {
        conflicts[key]++;
        return handle(commands);
      };
    }
    try {
      const [ra, rb] = await Promise.all([
        a.pipeline.ingest(lines.filter((_, i) => i % 2 === 0), { source: 'a', batchSize: 37 }),
        b.pipeline.ingest(lines.filter((_, i) => i % 2 === 1), { source: 'b', batchSize: 41 }),
      ]);
      expect(ra.rejected + rb.rejected).toBe(0);
      expect(ra.accepted + rb.accepted + ra.duplicates + rb.duplicates).toBe(lines.length);
      expect(conflicts.a + conflicts.b).toBeGreaterThan(0);

      const streams = new Map<string, StoredEvent[]>();
      const ids = new Set<string>();
      for await (const e of a.store.readAll()) {
        expect(ids.has(e.id)).toBe(false);
        ids.add(e.id);
        streams.set(e.streamId, [...(streams.get(e.streamId) ?? []), e]);
      }
      // Every upstream fact is in its customer's stream, once.
      for (const l of lines) {
        const { eventId, customerId } = JSON.parse((l as { raw: string }).raw) as { eventId: string; customerId: string };
        const recorded = (streams.get(customerStream(customerId)) ?? []).filter((e) => e.id === eventId);
        expect(recorded).toHaveLength(1);
      }
      expect([...streams.values()].flatMap((events) => verifyChain(events))).toEqual([]);
      // Whatever each pipeline counted as accepted is what the store holds of its facts.
      const facts = [...streams.values()].flat().filter((e) => e.metadata.upstreamEventId === e.id).length;
      expect(ra.accepted + rb.accepted).toBe(facts);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('records every fact once when both import the same lines at the same time: the later copy is a duplicate, not an error', async () => {
    const lines = await historyLines('same.ndjson', 4_000, 30, 11);
    const a = openEmbeddedWriteSide(join(dir, 'same'));
    const b = openEmbeddedWriteSide(join(dir, 'same'));
    try {
      const [ra, rb] = await Promise.all([
        a.pipeline.ingest(lines, { source: 'a', batchSize: 53 }),
        b.pipeline.ingest(lines, { source: 'b', batchSize: 47 }),
      ]);
      expect([ra.rejected, rb.rejected]).toEqual([0, 0]);
      expect(ra.accepted + rb.accepted).toBe(lines.length);
      expect(ra.duplicates + rb.duplicates).toBe(lines.length);
      const ids = new Set<string>();
      const streams = new Map<string, StoredEvent[]>();
      for await (const e of a.store.readAll()) {
        expect(ids.has(e.id)).toBe(false);
        ids.add(e.id);
        streams.set(e.streamId, [...(streams.get(e.streamId) ?? []), e]);
      }
      expect([...streams.values()].flatMap((events) => verifyChain(events))).toEqual([]);
      for (const l of lines) expect(ids.has((JSON.parse((l as { raw: string }).raw) as { eventId: string }).eventId)).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
