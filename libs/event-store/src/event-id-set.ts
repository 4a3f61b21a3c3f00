import { uuidWords, type UuidWordsReader } from '@crm/contracts';

/**
 * Makes the EventIdSet class, everything it uses inside: written without outside names (uuidWords comes in), so that
 * the SQLite store's append thread can make the very same class from this function's source text.
 */
export function defineEventIdSet(uuidWords: UuidWordsReader) {
  /** The 128 bits of the id parsed last, as four words (a typed array, so no number is boxed per call). */
  const KEY = new Int32Array(4);

  /** Parses canonical lowercase UUID text into KEY; anything else returns false and is kept as a string. */
  function parseUuid(id: string): boolean {
    return uuidWords(id, KEY, 0);
  }

  /** A local binding: a lookup of the global `Math` per call is slow inside vm contexts such as jest's. */
  const imul = Math.imul;

  /** One MurmurHash3 (x86, 32-bit) round. v4 ids are random already; v5 and test ids (…-000000000001) are not. */
  function mix(h: number, k: number): number {
    k = imul(k, 0xcc9e2d51);
    k = imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    return (imul(h, 5) + 0xe6546b64) | 0;
  }

  /** MurmurHash3 of the four words; its finalizer spreads ids that differ in a few low bits (sequential ids). */
  function hash(k0: number, k1: number, k2: number, k3: number): number {
    let h = mix(mix(mix(mix(0, k0), k1), k2), k3);
    h = imul(h ^ (h >>> 16), 0x85ebca6b);
    h = imul(h ^ (h >>> 13), 0xc2b2ae35);
    return h ^ (h >>> 16);
  }

  // Slot states. The key words cannot mark a free slot themselves: the all-zero UUID is a legal id.
  const EMPTY = 0;
  const FULL = 1;
  const DELETED = 2; // tombstone: lookups must probe past it, inserts may reuse it

  const INITIAL_SLOTS = 1024; // a power of two, so `hash & mask` picks the slot
  /** Rehash once full plus deleted slots pass this share of the table: linear probing slows down sharply above it. */
  const MAX_LOAD = 0.75;

  /** Words per slot: the slot's state, then the four words of its key. */
  const SLOT = 5;

  /**
   * A `Set<string>` of event ids (add/has/delete/size, same results) that keeps canonical lowercase UUIDs as
   * 128-bit keys in an open-addressing hash table inside one Int32Array (linear probing, doubling at 75% load,
   * tombstones for the rare delete). No string or object is kept per such id, so a million of them cost no
   * string hashing and add nothing for the GC to mark (20 bytes per slot, off the JS heap). A slot's state sits
   * next to its key: a probe of a table far bigger than the CPU caches then reads one cache line, mostly, not two.
   * Every other string (uppercase, other formats) goes into an ordinary Set; the two never overlap, since a
   * string either parses as lowercase UUID text or does not.
   */
  return class EventIdSet {
    /** Slot i's state is slots[5i], its key slots[5i+1..5i+4] (meaningful only while the state is FULL). */
    private slots = new Int32Array(SLOT * INITIAL_SLOTS);
    private mask = INITIAL_SLOTS - 1;
    private limit = Math.floor(INITIAL_SLOTS * MAX_LOAD);
    /** FULL slots. */
    private live = 0;
    /** FULL and DELETED slots: what a probe may have to walk past, so what the load limit counts. */
    private used = 0;
    /** Ids that are not lowercase UUID text. */
    private readonly fallback = new Set<string>();

    get size(): number {
      return this.live + this.fallback.size;
    }

    has(id: string): boolean {
      return parseUuid(id) ? this.find() >= 0 : this.fallback.has(id);
    }

    /** Adds the id; true if it was not there yet. */
    add(id: string): boolean {
      if (!parseUuid(id)) {
        const before = this.fallback.size;
        return this.fallback.add(id).size !== before;
      }
      let slot = this.find();
      if (slot >= 0) return false;
      slot = ~slot;
      if (this.slots[SLOT * slot] === EMPTY) {
        // Reusing a tombstone does not lengthen any probe; taking an empty slot may, so check the load first.
        if (this.used >= this.limit) {
          this.rehash();
          slot = ~this.find(); // KEY still holds this id: rehash does not parse
        }
        this.used++;
      }
      const j = SLOT * slot;
      const slots = this.slots;
      slots[j] = FULL;
      slots[j + 1] = KEY[0];
      slots[j + 2] = KEY[1];
      slots[j + 3] = KEY[2];
      slots[j + 4] = KEY[3];
      this.live++;
      return true;
    }

    /** Removes the id; true if it was there. */
    delete(id: string): boolean {
      if (!parseUuid(id)) return this.fallback.delete(id);
      const slot = this.find();
      if (slot < 0) return false;
      this.slots[SLOT * slot] = DELETED; // not EMPTY: that would cut the probe chains of keys placed after it
      this.live--;
      return true;
    }

    /**
     * Looks KEY up: its slot if present, else ~slot of where to insert it (the first tombstone on the way,
     * or the empty slot that ended the probe). There is always an empty slot, since used < slots.
     */
    private find(): number {
      const k0 = KEY[0];
      const k1 = KEY[1];
      const k2 = KEY[2];
      const k3 = KEY[3];
      const { slots, mask } = this;
      let i = hash(k0, k1, k2, k3) & mask;
      let free = -1;
      for (;;) {
        const j = SLOT * i;
        const s = slots[j];
        if (s === EMPTY) return ~(free >= 0 ? free : i);
        if (s === FULL) {
          if (slots[j + 1] === k0 && slots[j + 2] === k1 && slots[j + 3] === k2 && slots[j + 4] === k3) return i;
        } else if (free < 0) {
          free = i;
        }
        i = (i + 1) & mask;
      }
    }

    /**
     * Moves the live keys into a fresh table, dropping the tombstones: twice the size if they alone fill half
     * the load limit, else the same size (many deletes since the last rehash).
     */
    private rehash(): void {
      const old = this.slots;
      const count = old.length / SLOT;
      const slots = this.live >= this.limit / 2 ? count * 2 : count;
      const table = new Int32Array(SLOT * slots);
      const mask = slots - 1;
      for (let j = 0; j < old.length; j += SLOT) {
        if (old[j] !== FULL) continue;
        const k0 = old[j + 1];
        const k1 = old[j + 2];
        const k2 = old[j + 3];
        const k3 = old[j + 4];
        let i = hash(k0, k1, k2, k3) & mask;
        while (table[SLOT * i] !== EMPTY) i = (i + 1) & mask; // keys are distinct and there are no tombstones yet
        const t = SLOT * i;
        table[t] = FULL;
        table[t + 1] = k0;
        table[t + 2] = k1;
        table[t + 3] = k2;
        table[t + 4] = k3;
      }
      this.slots = table;
      this.mask = mask;
      this.limit = Math.floor(slots * MAX_LOAD);
      this.used = this.live;
    }
  };
}

export const EventIdSet = defineEventIdSet(uuidWords);
export type EventIdSet = InstanceType<typeof EventIdSet>;
