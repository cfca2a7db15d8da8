// The seeded hash of keys, fields and members (Redis's dictGenHashFunction): HalfSipHash-1-3,
// the 32-bit SipHash variant Linux uses as hsiphash, keyed with a random 64-bit seed per
// process. A keyed PRF is what actually resists hash flooding: seeded Murmur3 and FNV have
// seed-independent multicollisions, so a client could still pile every field of a hash
// into one chain, or build colliding clusters in the keyspace's linear probing. Redis uses
// SipHash for the same reason.
//
// It is written twice, over bytes (the keyspace, lookups by argument bytes) and over latin1
// strings (Dict keys), with one seed, so that both give the same hash for the same bytes
// and a Dict can be searched with an argument's bytes. A shared core would need the four
// state words in shared state, which measured twice as slow as locals.

const seed = crypto.getRandomValues(new Int32Array(2));
const K0 = seed[0]! | 0;
const K1 = seed[1]! | 0;

/** The seeded hash of `len` bytes of buf from start, as a signed 32-bit integer. */
export function hashBytes(buf: Uint8Array, start: number, len: number): number {
  let v0 = K0;
  let v1 = K1;
  let v2 = 0x6c796765 ^ K0;
  let v3 = 0x74656462 ^ K1;
  const end = start + len;
  const blocksEnd = start + (len & ~3);
  let i = start;
  // The rounds are written out: a helper would need the four words in shared state,
  // which is much slower than locals.
  for (; i < blocksEnd; i += 4) {
    const m = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    v3 ^= m;
    v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
    v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
    v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
    v0 ^= m;
  }
  // The last block carries the length in its top byte, so "a" and "a\0" differ.
  let last = len << 24;
  for (let shift = 0; i < end; i++, shift += 8) last |= buf[i]! << shift;
  v3 ^= last;
  // Round 0 compresses the last block; rounds 1..3 are the finalization.
  for (let round = 0; round < 4; round++) {
    if (round === 1) {
      v0 ^= last;
      v2 ^= 0xff;
    }
    v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
    v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
    v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
  }
  return v1 ^ v3;
}

/**
 * The seeded hash of a latin1 string, as a signed 32-bit integer (apply `>>> 0` for the
 * unsigned value). Chars above 255 are still hashed deterministically, just with more
 * collisions, because they overlap their neighbours' bits when packed.
 */
export function hashString(s: string): number {
  let v0 = K0;
  let v1 = K1;
  let v2 = 0x6c796765 ^ K0;
  let v3 = 0x74656462 ^ K1;
  const length = s.length;
  const blocksEnd = length & ~3;
  let i = 0;
  // Every round is written out inline: a helper would need the four words in shared
  // state, and that measured twice as slow as locals.
  for (; i < blocksEnd; i += 4) {
    const m =
      s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24);
    v3 ^= m;
    v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
    v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
    v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
    v0 ^= m;
  }
  // The last block carries the length in its top byte, so "a" and "a\0" differ.
  let last = length << 24;
  for (let shift = 0; i < length; i++, shift += 8) last |= s.charCodeAt(i) << shift;
  v3 ^= last;
  // Round 0 compresses the last block; rounds 1..3 are the finalization, which begins by
  // absorbing the block into v0 and marking v2, as the SipHash construction specifies.
  for (let round = 0; round < 4; round++) {
    if (round === 1) {
      v0 ^= last;
      v2 ^= 0xff;
    }
    v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
    v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
    v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
  }
  return v1 ^ v3;
}
