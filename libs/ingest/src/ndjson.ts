import { createReadStream } from 'fs';
import type { RawInput } from './ingest-pipeline';

/**
 * Streams an NDJSON file line by line with flat memory, whatever its size. Blank lines are skipped
 * (they are not messages) but still counted, so reported line numbers match the file.
 */
export async function* readNdjsonFile(path: string, onBytes?: (bytesRead: number) => void): AsyncGenerator<RawInput> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let rest = '';
  let line = 0;
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<string>) {
    bytes += Buffer.byteLength(chunk);
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() as string;
    for (const p of parts) {
      line++;
      const raw = p.endsWith('\r') ? p.slice(0, -1) : p;
      if (raw.trim() !== '') yield { line, raw };
    }
    onBytes?.(bytes);
  }
  if (rest.trim() !== '') yield { line: line + 1, raw: rest.endsWith('\r') ? rest.slice(0, -1) : rest };
}
