import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { LINE_BATCHES, readNdjsonFile, type RawInput } from './ndjson';

describe('readNdjsonFile', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'crm-ndjson-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function lines(text: string | Buffer): Promise<RawInput[]> {
    const file = join(dir, `f${Math.random()}.ndjson`);
    writeFileSync(file, text);
    const out: RawInput[] = [];
    for await (const item of readNdjsonFile(file)) out.push(item);
    return out;
  }

  it('numbers lines as in the file, skips blank ones, strips CR, keeps a last line without newline', async () => {
    expect(await lines('{"a":1}\r\n\n   \n{"b":"二"}\n{"c":3}')).toEqual([
      { line: 1, raw: '{"a":1}' },
      { line: 4, raw: '{"b":"二"}' },
      { line: 5, raw: '{"c":3}' },
    ]);
    expect(await lines('')).toEqual([]);
    expect(await lines('\n\n')).toEqual([]);
  });

  it('decodes multi-byte characters that straddle a read chunk boundary, and lines longer than a chunk', async () => {
    // Reads are 1 MiB: a line of 3-byte characters puts one across the boundary whatever its offset.
    const long = '客'.repeat(700_000); // 2.1 MB: spans three reads
    const rows = Array.from({ length: 3 }, (_, i) => JSON.stringify({ i, name: long.slice(i) }));
    const got = await lines(rows.join('\n') + '\n');
    expect(got.map((g) => ('raw' in g ? g.raw : null))).toEqual(rows);
    expect(got.map((g) => g.line)).toEqual([1, 2, 3]);
  });

  it('gives the same lines a chunk at a time as one by one', async () => {
    const file = join(dir, 'batches.ndjson');
    const text = Array.from({ length: 50_000 }, (_, i) => (i % 7 === 0 ? '' : JSON.stringify({ i, s: '城市'.repeat(i % 5) }))).join('\r\n');
    writeFileSync(file, text);
    const single: RawInput[] = [];
    for await (const item of readNdjsonFile(file)) single.push(item);
    const batched: RawInput[] = [];
    for await (const batch of readNdjsonFile(file)[LINE_BATCHES]()) batched.push(...batch);
    expect(batched).toEqual(single);
    expect(single).toHaveLength(50_000 - Math.ceil(50_000 / 7));
    expect(single[single.length - 1]).toEqual({ line: 50_000, raw: JSON.stringify({ i: 49_999, s: '城市'.repeat(49_999 % 5) }) });
  });
});
