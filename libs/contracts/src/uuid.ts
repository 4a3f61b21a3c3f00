/** Reads canonical lowercase UUID text into `words[at..at+3]` (see uuidWords). */
export type UuidWordsReader = (id: string, words: Int32Array, at: number) => boolean;

/**
 * Makes uuidWords, its tables inside: written without outside names, so that a worker thread can make its own from
 * this function's source text (the SQLite store's append thread keeps an EventIdSet).
 */
export function makeUuidWords(): UuidWordsReader {
  // Value of each hex digit by char code; 16 for every other char. Only 'a'-'f': 'A' must stay a different id.
  // Covers all 65,536 char codes (64 KiB) so the hot loop needs no range check.
  const HEX = new Uint8Array(0x10000).fill(16);
  for (let i = 0; i < 16; i++) HEX['0123456789abcdef'.charCodeAt(i)] = i;
  // Where the 32 hex digits of UUID text are (around the dashes at 8, 13, 18 and 23).
  const DIGITS = Uint8Array.from({ length: 36 }, (_, i) => i).filter((i) => i !== 8 && i !== 13 && i !== 18 && i !== 23);
  return (id, words, at) => {
    if (id.length !== 36) return false;
    if (id.charCodeAt(8) !== 45 || id.charCodeAt(13) !== 45 || id.charCodeAt(18) !== 45 || id.charCodeAt(23) !== 45) return false; // '-'
    let any = 0; // OR of all digit values: 16 or more if one char was not a digit
    let w = 0;
    for (let k = 0; k < 32; k++) {
      const d = HEX[id.charCodeAt(DIGITS[k])];
      any |= d;
      w = (w << 4) | d; // after 8 digits the earlier ones have been shifted out
      if ((k & 7) === 7) words[at + (k >> 3)] = w;
    }
    return any < 16;
  };
}

/**
 * Reads canonical lowercase UUID text (8-4-4-4-12 hex digits) into `words[at..at+3]`, its 128 bits. Anything else
 * returns false (the words are then undefined): only text that maps one to one onto 128 bits may be kept that way.
 * For sets of many event ids kept without a string per id (nothing for the GC to copy or mark).
 */
export const uuidWords: UuidWordsReader = makeUuidWords();

/** The canonical text of the UUID in `words[at..at+3]` (the inverse of uuidWords). */
export function uuidText(words: Int32Array, at: number): string {
  let hex = '';
  for (let k = 0; k < 4; k++) hex += (words[at + k] >>> 0).toString(16).padStart(8, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
