import { createReadStream } from 'fs';

/** One input item: an NDJSON line (string) or an already parsed JSON value. */
export type RawInput = { line: number; raw: string } | { line: number; value: unknown };

/** Key of the method of an NDJSON source that yields its lines a read chunk at a time (see readNdjsonFile). */
export const LINE_BATCHES: unique symbol = Symbol('crm.ndjson.lineBatches');

/** An NDJSON source: its lines one by one, and (for the ingest pipeline) the same lines a chunk at a time. */
export interface NdjsonSource extends AsyncGenerator<RawInput> {
  /** The lines of the whole file again, as arrays (one per chunk read); independent of the line iterator. */
  [LINE_BATCHES](): AsyncGenerator<RawInput[]>;
}

/**
 * Streams an NDJSON file line by line with flat memory, whatever its size. Blank lines are skipped
 * (they are not messages) but still counted, so reported line numbers match the file.
 * The ingest pipeline reads it through [LINE_BATCHES] instead: the same lines, without an await per line.
 */
export function readNdjsonFile(path: string, onBytes?: (bytesRead: number) => void): NdjsonSource {
  return Object.assign(readLines(path, onBytes), { [LINE_BATCHES]: () => readLineBatches(path, onBytes) });
}

async function* readLines(path: string, onBytes?: (bytesRead: number) => void): AsyncGenerator<RawInput> {
  for await (const batch of readLineBatches(path, onBytes)) yield* batch;
}

/** The non-blank lines of a file, one array per chunk read; the progress callback runs after each chunk. */
async function* readLineBatches(path: string, onBytes?: (bytesRead: number) => void): AsyncGenerator<RawInput[]> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let rest = '';
  let line = 0;
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<string>) {
    bytes += Buffer.byteLength(chunk);
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() as string;
    const items: RawInput[] = [];
    for (const p of parts) {
      line++;
      const raw = p.endsWith('\r') ? p.slice(0, -1) : p;
      if (raw.trim() !== '') items.push({ line, raw });
    }
    if (items.length > 0) yield items;
    onBytes?.(bytes);
  }
  if (rest.trim() !== '') yield [{ line: line + 1, raw: rest.endsWith('\r') ? rest.slice(0, -1) : rest }];
}
