import { createWriteStream } from 'fs';
import { once } from 'events';
import { finished } from 'stream/promises';
import type { UpstreamEvent } from '@crm/contracts';
import { DemoOptions, generateDemoHistory } from './history';

const BATCH = 512;

/**
 * Streams events to `path` as NDJSON (one JSON object per line), honouring backpressure: it waits for
 * `drain` whenever the stream's buffer is full, so memory stays bounded whatever the event count.
 * Resolves with the number of events written once the file is flushed and closed.
 */
export async function writeEventsNdjson(path: string, events: Iterable<UpstreamEvent>): Promise<number> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  const done = finished(out);
  done.catch(() => undefined); // observed below; avoid an unhandled rejection while we are still writing
  let count = 0;
  let lines: string[] = [];
  try {
    for (const e of events) {
      lines.push(JSON.stringify(e));
      count++;
      if (lines.length >= BATCH) {
        const ok = out.write(lines.join('\n') + '\n');
        lines = [];
        if (!ok) await once(out, 'drain');
      }
    }
    if (lines.length) out.write(lines.join('\n') + '\n');
    out.end();
  } catch (err) {
    out.destroy(err as Error);
    throw err;
  }
  await done;
  return count;
}

/** Writes the synthetic demo history (see `generateDemoHistory`) to `path` as NDJSON. */
export function writeDemoNdjson(path: string, options: DemoOptions = {}): Promise<number> {
  return writeEventsNdjson(path, generateDemoHistory(options));
}
