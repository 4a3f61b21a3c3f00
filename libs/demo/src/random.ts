import { createHash } from 'crypto';

/** Small, fast, seedable PRNGs and deterministic UUIDs for the demo data (no dependencies). */

/** mulberry32: a 32-bit state PRNG, good enough for synthetic data; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** MurmurHash3's finalizer: a bijection on 32-bit integers with good avalanche. */
export function fmix32(h: number): number {
  h >>>= 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Mixes any number of integers into one 32-bit seed. */
export function hash32(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) h = fmix32(((h ^ fmix32(p)) + 0x9e3779b9) >>> 0);
  return h;
}

/** Convenience draws on top of a [0, 1) source. */
export class Random {
  private readonly next: () => number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  float(): number {
    return this.next();
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Uniform float in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Uniform integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** Log-uniform float in [lo, hi). */
  logUniform(lo: number, hi: number): number {
    return lo * Math.exp(Math.log(hi / lo) * this.next());
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  /** Picks a key with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[];
    let total = 0;
    for (const k of keys) total += weights[k];
    let r = this.next() * total;
    for (const k of keys) {
      r -= weights[k];
      if (r < 0) return k;
    }
    return keys[keys.length - 1];
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  /** Mean-one log-normal multiplier. */
  noise(sigma: number): number {
    return Math.exp(sigma * this.normal() - (sigma * sigma) / 2);
  }
  /** A Poisson count (normal approximation above 30). */
  count(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const hex8 = (w: number): string => HEX[w >>> 24] + HEX[(w >>> 16) & 255] + HEX[(w >>> 8) & 255] + HEX[w & 255];
const hex4 = (w: number): string => HEX[(w >>> 8) & 255] + HEX[w & 255];

/**
 * Deterministic v4-shaped UUIDs: the n-th id of a seed. The first 32 bits are a bijection of n, so
 * the ids of one sequence are unique for the first 2^32 draws; the rest is seeded noise.
 */
export class UuidSequence {
  private n = 0;
  private readonly k: [number, number, number, number];

  constructor(seed: number) {
    this.k = [hash32(seed, 1), hash32(seed, 2), hash32(seed, 3), hash32(seed, 4)];
  }

  next(): string {
    const n = this.n++;
    const w0 = fmix32(n ^ this.k[0]);
    const w1 = fmix32((n + this.k[1]) >>> 0);
    const w2 = fmix32((n ^ this.k[2]) + 0x7f4a7c15);
    const w3 = fmix32(w0 ^ this.k[3]);
    return `${hex8(w0)}-${hex4(w1 >>> 16)}-${hex4((w1 & 0x0fff) | 0x4000)}-${hex4(((w2 >>> 16) & 0x3fff) | 0x8000)}-${hex4(w2)}${hex8(w3)}`;
  }
}

/**
 * RFC 4122 / 9562 name-based UUID (version 5, SHA-1). Same result as `uuid`'s `v5(name, namespace)`;
 * written here because `uuid` ≥ 12 ships ESM only, which Jest 30 cannot `require` on Node 20.
 */
export function uuidV5(name: string, namespace: string): string {
  const ns = namespace.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(ns)) throw new TypeError(`namespace must be a UUID, got ${namespace}`);
  const h = createHash('sha1').update(Buffer.from(ns, 'hex')).update(name, 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
