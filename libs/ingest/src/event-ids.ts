import { createHash } from 'crypto';
import { parse as uuidParse } from 'uuid';

/** Namespace of the UUID v5 ids of derived events: the same cause always gives the same ids. */
export const DERIVED_ID_NAMESPACE = '4f0d2b6e-53a4-4f53-9c65-2a1c7a9e0d11';
const NAMESPACE_BYTES = Buffer.from(uuidParse(DERIVED_ID_NAMESPACE));

/**
 * UUID v5 (RFC 9562) of `${cause}#${index}` in DERIVED_ID_NAMESPACE — the same value as `uuid`'s v5,
 * computed with the native SHA-1 because the library's byte handling dominated ingest profiles.
 * event-ids.spec.ts checks it against `uuid`.
 */
export function derivedEventId(cause: string, index: number): string {
  const h = createHash('sha1').update(NAMESPACE_BYTES).update(`${cause}#${index}`, 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.toString('hex', 0, 16);
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
