/**
 * Redis's CRC-64 (crc64.c): the Jones polynomial 0xad93d23594c935a9, reflected input and
 * output, initial value 0, no final xor. It checks RDB files and DUMP payloads:
 * crc64(0, "123456789") is 0xe9c6d914c4b8d9ca.
 *
 * A CRC is 64 bits and JavaScript's bitwise operators work on 32, so the running value is
 * kept as two unsigned 32-bit halves and the table as two Uint32Arrays; bigint would
 * allocate per byte on the load and save paths of large files. The table is sliced by 8
 * (eight tables, one per byte position of a 64-bit word) so that the inner loop takes
 * eight bytes per step, as Redis's crcspeed does.
 */

/** The reflected Jones polynomial, as its high and low 32-bit halves. */
const POLY_HI = 0x95ac9329;
const POLY_LO = 0xac4bc9b5;

const SLICES = 8;
/** TABLE_HI[k * 256 + b], TABLE_LO[...]: the CRC of byte b followed by k zero bytes. */
const TABLE_HI = new Uint32Array(SLICES * 256);
const TABLE_LO = new Uint32Array(SLICES * 256);

function buildTables(): void {
  for (let b = 0; b < 256; b++) {
    let hi = 0;
    let lo = b;
    for (let bit = 0; bit < 8; bit++) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | (hi << 31)) >>> 0;
      hi = hi >>> 1;
      if (carry !== 0) {
        hi = (hi ^ POLY_HI) >>> 0;
        lo = (lo ^ POLY_LO) >>> 0;
      }
    }
    TABLE_HI[b] = hi;
    TABLE_LO[b] = lo;
  }
  for (let k = 1; k < SLICES; k++) {
    for (let b = 0; b < 256; b++) {
      // One more zero byte through the CRC of the previous slice.
      const hi = TABLE_HI[(k - 1) * 256 + b]!;
      const lo = TABLE_LO[(k - 1) * 256 + b]!;
      const index = lo & 0xff;
      TABLE_LO[k * 256 + b] = (((lo >>> 8) | (hi << 24)) ^ TABLE_LO[index]!) >>> 0;
      TABLE_HI[k * 256 + b] = ((hi >>> 8) ^ TABLE_HI[index]!) >>> 0;
    }
  }
}
buildTables();

/**
 * A running CRC-64. `update` folds in bytes; `hi`/`lo` are the value so far. Reused
 * objects keep the hot paths free of allocation.
 */
export class Crc64 {
  hi = 0;
  lo = 0;

  reset(): void {
    this.hi = 0;
    this.lo = 0;
  }

  /** Folds buf[start .. start + len) into the CRC. */
  update(buf: Uint8Array, start: number, len: number): void {
    let hi = this.hi;
    let lo = this.lo;
    let p = start;
    const end = start + len;
    const TH = TABLE_HI;
    const TL = TABLE_LO;
    while (end - p >= 8) {
      // The eight input bytes xored into the CRC, as little-endian words.
      const a = (lo ^ (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24))) >>> 0;
      const b = (hi ^ (buf[p + 4]! | (buf[p + 5]! << 8) | (buf[p + 6]! << 16) | (buf[p + 7]! << 24))) >>> 0;
      const i0 = 7 * 256 + (a & 0xff);
      const i1 = 6 * 256 + ((a >>> 8) & 0xff);
      const i2 = 5 * 256 + ((a >>> 16) & 0xff);
      const i3 = 4 * 256 + (a >>> 24);
      const i4 = 3 * 256 + (b & 0xff);
      const i5 = 2 * 256 + ((b >>> 8) & 0xff);
      const i6 = 256 + ((b >>> 16) & 0xff);
      const i7 = b >>> 24;
      lo = (TL[i0]! ^ TL[i1]! ^ TL[i2]! ^ TL[i3]! ^ TL[i4]! ^ TL[i5]! ^ TL[i6]! ^ TL[i7]!) >>> 0;
      hi = (TH[i0]! ^ TH[i1]! ^ TH[i2]! ^ TH[i3]! ^ TH[i4]! ^ TH[i5]! ^ TH[i6]! ^ TH[i7]!) >>> 0;
      p += 8;
    }
    for (; p < end; p++) {
      const index = (lo ^ buf[p]!) & 0xff;
      lo = (((lo >>> 8) | (hi << 24)) ^ TL[index]!) >>> 0;
      hi = ((hi >>> 8) ^ TH[index]!) >>> 0;
    }
    this.hi = hi;
    this.lo = lo;
  }

  /** Writes the CRC little-endian (as Redis stores it: memrev64ifbe) at out[at .. at + 8). */
  writeLE(out: Uint8Array, at: number): void {
    const lo = this.lo;
    const hi = this.hi;
    out[at] = lo & 0xff;
    out[at + 1] = (lo >>> 8) & 0xff;
    out[at + 2] = (lo >>> 16) & 0xff;
    out[at + 3] = lo >>> 24;
    out[at + 4] = hi & 0xff;
    out[at + 5] = (hi >>> 8) & 0xff;
    out[at + 6] = (hi >>> 16) & 0xff;
    out[at + 7] = hi >>> 24;
  }

  /** Whether buf[at .. at + 8) holds this CRC little-endian. */
  equalsLE(buf: Uint8Array, at: number): boolean {
    const lo = (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
    const hi = (buf[at + 4]! | (buf[at + 5]! << 8) | (buf[at + 6]! << 16) | (buf[at + 7]! << 24)) >>> 0;
    return lo === this.lo && hi === this.hi;
  }

  /** The value as 16 lowercase hex digits without leading zeros (Redis's %llx in its log lines). */
  hex(): string {
    return crcHex(this.hi, this.lo);
  }
}

/** hi:lo as %llx prints a 64-bit value. */
export function crcHex(hi: number, lo: number): string {
  if (hi === 0) return lo.toString(16);
  return hi.toString(16) + lo.toString(16).padStart(8, "0");
}

/** The CRC-64 of buf[start .. start + len), as 16 hex digits (for tests and tools). */
export function crc64Hex(buf: Uint8Array, start = 0, len = buf.length - start): string {
  const crc = new Crc64();
  crc.update(buf, start, len);
  return crc.hi.toString(16).padStart(8, "0") + crc.lo.toString(16).padStart(8, "0");
}
