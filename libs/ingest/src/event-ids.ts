import { hash } from 'crypto';
import { parse as uuidParse } from 'uuid';

/** Namespace of the UUID v5 ids of derived events: the same cause always gives the same ids. */
export const DERIVED_ID_NAMESPACE = '4f0d2b6e-53a4-4f53-9c65-2a1c7a9e0d11';
const NAMESPACE_BYTES = Buffer.from(uuidParse(DERIVED_ID_NAMESPACE));

/** The namespace followed by the name's UTF-8 bytes, reused call after call (grown when a name needs it). */
let input = Buffer.alloc(256);
NAMESPACE_BYTES.copy(input, 0);
/** Hex digit of byte 8's high nibble once its top two bits are the RFC 9562 variant 10. */
const VARIANT_DIGIT = '89ab89ab89ab89ab';

/**
 * UUID v5 (RFC 9562) of `${cause}#${index}` in DERIVED_ID_NAMESPACE — the same value as `uuid`'s v5,
 * computed with the native one-shot SHA-1 because the library's byte handling (and then a Hash object per
 * id) dominated ingest profiles. event-ids.spec.ts checks it against `uuid`.
 */
export function derivedEventId(cause: string, index: number): string {
  const name = `${cause}#${index}`;
  if (16 + 3 * name.length > input.length) {
    input = Buffer.alloc(16 + 3 * name.length);
    NAMESPACE_BYTES.copy(input, 0);
  }
  const n = input.write(name, 16, 'utf8');
  const x = hash('sha1', input.subarray(0, 16 + n), 'hex');
  // Version 5 in the high nibble of byte 6 (hex digit 12), variant 10 in the top bits of byte 8 (hex digit 16).
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-5${x.slice(13, 16)}-${VARIANT_DIGIT[parseInt(x[16], 16)]}${x.slice(17, 20)}-${x.slice(20, 32)}`;
}
