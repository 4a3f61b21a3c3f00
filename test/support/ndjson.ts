import type { RawInput } from '@crm/ingest';

/** NDJSON text as an import reads it: each non-blank line with its line number in the text (from 1). */
export function numberedLines(content: string): RawInput[] {
  return content
    .split('\n')
    .map((raw, i) => ({ line: i + 1, raw }))
    .filter((l) => l.raw.trim() !== '');
}
