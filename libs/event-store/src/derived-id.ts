import * as crypto from 'crypto';

/** Namespace of the UUID v5 ids of derived events: the same cause always gives the same ids. */
export const DERIVED_ID_NAMESPACE = '4f0d2b6e-53a4-4f53-9c65-2a1c7a9e0d11';

/**
 * The id of an event derived from a cause (a fact's eventId, a close or a sweep), as a NewEvent may give it: the
 * UUID v5 of `${cause}#${index}` in DERIVED_ID_NAMESPACE (`derivedEventId`). The store makes the UUID, on its append
 * thread if it has one: there it costs no time of the thread that decides. Measured on the 1M-line import, 6 pairs in
 * ABBA order: wall -0.30, -0.30, -0.10, -0.20, -0.16, -0.49 s; the main thread, the import's limit, 0.6-0.8 s less CPU,
 * the append thread 0.1-0.5 s more. (Tried in session 16 and dropped, 8 pairs without a gain: the append thread was
 * as busy as the main thread then; with each link a column of its row it has time to spare.)
 */
export interface DerivedEventId {
  derivedFrom: string;
  index: number;
}

/**
 * Makes the function from a v5 name (`${cause}#${index}`) to its UUID in the namespace `namespaceId` (a UUID). Written
 * without outside names so that the SQLite append thread can run the very same code from its source text
 * (`makeV5OfName.toString()`).
 */
export function makeV5OfName(
  c: { hash(algorithm: string, data: Uint8Array, encoding: 'hex'): string },
  B: typeof Buffer,
  namespaceId: string,
): (name: string) => string {
  const namespace = B.from(namespaceId.replace(/-/g, ''), 'hex');
  // The namespace followed by the name's UTF-8 bytes, reused call after call (grown when a name needs it).
  let input = B.alloc(256);
  namespace.copy(input, 0);
  /** Hex digit of byte 8's high nibble once its top two bits are the RFC 9562 variant 10. */
  const variantDigit = '89ab89ab89ab89ab';
  return (name) => {
    if (16 + 3 * name.length > input.length) {
      input = B.alloc(16 + 3 * name.length);
      namespace.copy(input, 0);
    }
    const n = input.write(name, 16, 'utf8');
    const x = c.hash('sha1', input.subarray(0, 16 + n), 'hex');
    // Version 5 in the high nibble of byte 6 (hex digit 12), variant 10 in the top bits of byte 8 (hex digit 16).
    return x.slice(0, 8) + '-' + x.slice(8, 12) + '-5' + x.slice(13, 16) + '-' + variantDigit[parseInt(x[16], 16)] + x.slice(17, 20) + '-' + x.slice(20, 32);
  };
}

const v5OfName = makeV5OfName(crypto, Buffer, DERIVED_ID_NAMESPACE);

/**
 * UUID v5 (RFC 9562) of `${cause}#${index}` in DERIVED_ID_NAMESPACE — the same value as `uuid`'s v5, computed with
 * the native one-shot SHA-1 because the library's byte handling (and then a Hash object per id) dominated ingest
 * profiles. derived-id.spec.ts checks it against `uuid`.
 */
export function derivedEventId(cause: string, index: number): string {
  return v5OfName(`${cause}#${index}`);
}

/** The v5 name of a derived id (what makeV5OfName turns into the UUID). */
export function v5Name(id: DerivedEventId): string {
  return `${id.derivedFrom}#${id.index}`;
}

/** A NewEvent's id as a string: itself, or the UUID of a derived id. */
export function eventIdOf(id: string | DerivedEventId): string {
  return typeof id === 'string' ? id : v5OfName(v5Name(id));
}
