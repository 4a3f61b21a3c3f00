import * as crypto from 'crypto';
import type { StoredEvent } from './port';

/**
 * Tamper evidence: every recorded event's metadata ends with `hash`, a SHA-256 over the previous event's hash
 * in the same stream ('' for the first), the event's place (stream, revision), its id and type, and the exact
 * JSON of its data and of its metadata without the hash. Changing, inserting, deleting or moving an event
 * breaks the chain from there on.
 *
 * Written with `crypto` as a parameter and no outside names so that the SQLite append thread can run the very
 * same function from its source text (`chainHash.toString()`).
 */
export function chainHash(
  c: typeof crypto,
  previous: string,
  streamId: string,
  revision: number,
  id: string,
  type: string,
  dataJson: string,
  metadataJson: string,
): string {
  // One-shot hash: no Hash object (and native context) per event on the append path.
  return c.hash('sha256', previous + '\n' + streamId + '\n' + revision + '\n' + id + '\n' + type + '\n' + dataJson + '\n' + metadataJson, 'hex');
}

/** The metadata JSON of an event (written without `hash`) with its hash added as the last key. */
export function withHash(metadataJson: string, hash: string): string {
  return metadataJson.slice(0, -1) + (metadataJson.length > 2 ? ',"hash":"' : '"hash":"') + hash + '"}';
}

/** OUTSIDE_STREAM: an event in the store that no stream reaches (see EventStore.eventsOutsideStreams). */
export type ChainBreakKind = 'ALTERED' | 'MISSING_HASH' | 'REVISION_GAP' | 'OUT_OF_ORDER' | 'OUTSIDE_STREAM';

export interface ChainBreak {
  kind: ChainBreakKind;
  streamId: string;
  revision: number;
  eventId: string;
  position: string;
  expected: string;
  found: string;
}

/**
 * Checks one stream's chain as it is read back (events in revision order). An altered event fails its own hash;
 * an inserted or deleted one fails the hash of the event after it, and leaves a gap or repeat in the revisions.
 * Deleting the stream's last event leaves the chain intact: the caller compares the derived history too.
 */
export function verifyChain(events: Iterable<StoredEvent>): ChainBreak[] {
  const breaks: ChainBreak[] = [];
  let previous = '';
  let expectedRevision = 0;
  for (const e of events) {
    const at = { streamId: e.streamId, revision: e.revision, eventId: e.id, position: String(e.position) };
    if (e.revision !== expectedRevision) {
      breaks.push({ ...at, kind: e.revision > expectedRevision ? 'REVISION_GAP' : 'OUT_OF_ORDER', expected: `revision ${expectedRevision}`, found: `revision ${e.revision}` });
    }
    expectedRevision = e.revision + 1;
    const found = e.metadata.hash;
    const { hash: _h, ...rest } = e.metadata;
    const expected = chainHash(crypto, previous, e.streamId, e.revision, e.id, e.type, JSON.stringify(e.data) ?? 'null', JSON.stringify(rest));
    if (found === undefined) breaks.push({ ...at, kind: 'MISSING_HASH', expected, found: '(none)' });
    else if (found !== expected) breaks.push({ ...at, kind: 'ALTERED', expected, found });
    // Go on from the recorded hash so one altered event is reported once, not for every event after it.
    previous = found ?? expected;
  }
  return breaks;
}

export { crypto as chainCrypto };
