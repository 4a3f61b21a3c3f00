import { spawn, spawnSync } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { SqliteEventStore, verifyChain, type ChainBreak, type StoredEvent } from '@crm/event-store';
import { writeBenchFile } from '../bench/generate-events';
import { requireBuiltCli } from '../support/cli';

jest.setTimeout(240_000);

/** Everything in the store that a run decides (not the wall-clock recordedAt, nor the hash that covers it). */
async function dump(dataDir: string): Promise<string[]> {
  const store = SqliteEventStore.open(join(dataDir, 'events.sqlite'));
  const out: string[] = [];
  for await (const e of store.readAll()) {
    const { recordedAt: _r, hash: _h, ...meta } = e.metadata;
    out.push(JSON.stringify([e.streamId, e.revision, e.id, e.type, e.data, meta]));
  }
  await store.close();
  return out.sort();
}

/** Every stream's hash chain checked (see hash-chain.ts): a resumed import must leave them intact. */
async function chainBreaks(dataDir: string): Promise<ChainBreak[]> {
  const store = SqliteEventStore.open(join(dataDir, 'events.sqlite'));
  const byStream = new Map<string, StoredEvent[]>();
  for await (const e of store.readAll()) {
    const list = byStream.get(e.streamId) ?? [];
    list.push(e);
    byStream.set(e.streamId, list);
  }
  await store.close();
  return [...byStream.values()].flatMap((events) => verifyChain(events));
}

function importFile(cli: string, dataDir: string, file: string) {
  const r = spawnSync('node', [cli, 'import', file, '--json'], { env: { ...process.env, CRM_DATA_DIR: dataDir }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`import failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { accepted: number; duplicates: number; rejected: number };
}

/** Starts an import and kills it with SIGKILL after `ms`. Resolves with whether it was still running. */
function importAndKill(cli: string, dataDir: string, file: string, ms: number): Promise<boolean> {
  return new Promise((ok) => {
    const child = spawn('node', [cli, 'import', file, '--json'], { env: { ...process.env, CRM_DATA_DIR: dataDir }, stdio: 'ignore' });
    let exited = false;
    child.on('exit', () => {
      exited = true;
    });
    setTimeout(() => {
      const wasRunning = !exited;
      child.kill('SIGKILL');
      child.on('close', () => ok(wasRunning));
      if (exited) ok(false);
    }, ms);
  });
}

describe('crm import killed with SIGKILL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crm-kill-'));
  const file = join(dir, 'events.ndjson');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('then run again, leaves the same store as one clean run', async () => {
    const cli = requireBuiltCli();
    await writeBenchFile(file, 60_000, 3_000, 11);
    const clean = join(dir, 'clean');
    const t0 = Date.now();
    const first = importFile(cli, clean, file);
    const cleanMs = Date.now() - t0;
    expect(first).toMatchObject({ accepted: 60_000, duplicates: 0, rejected: 0 });
    const expected = await dump(clean);

    const killed = join(dir, 'killed');
    let interrupted = 0;
    // Kill at several moments, as fractions of a clean run (start-up, early, mid-way): together they stay short of one run.
    for (const f of [0.05, 0.2, 0.3, 0.35]) if (await importAndKill(cli, killed, file, Math.round(f * cleanMs))) interrupted++;
    expect(interrupted).toBeGreaterThan(0);
    const partial = (await dump(killed)).length;
    expect(partial).toBeLessThan(expected.length); // it really was cut short

    const resumed = importFile(cli, killed, file);
    expect(resumed.accepted + resumed.duplicates).toBe(60_000);
    const after = await dump(killed);
    // Compared as a count of differing lines first: a diff of ~100k lines would take minutes to print.
    expect(after.length).toBe(expected.length);
    expect(after.filter((line, i) => line !== expected[i]).slice(0, 5)).toEqual([]);
    expect(await chainBreaks(killed)).toEqual([]);
  });
});
