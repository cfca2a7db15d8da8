/**
 * LZF compression, byte-compatible with the liblzf 3.6 that Redis 7.0 uses for RDB strings.
 *
 * Redis compresses every string longer than 20 bytes when `rdbcompression` is on (RDB files,
 * DUMP payloads, DEBUG OBJECT's serializedlength). It calls the compressor with an output
 * limit of `len - 4`, so that compression must save at least four bytes, and stores the
 * string uncompressed when the compressor returns 0. redbun must produce the same bytes, so
 * this is not "an" LZF compressor but a re-implementation of liblzf's exact choices.
 *
 * ## The compressed format
 *
 * A stream of blocks; the first byte of each block (the control byte) says what follows:
 *
 *   000LLLLL <L+1 bytes>          literal run: copy the next L+1 bytes (1..32) as they are.
 *   LLLooooo oooooooo             back reference, L = 1..6: copy L+2 bytes (3..8).
 *   111ooooo LLLLLLLL oooooooo    back reference with an extended length: copy
 *                                 7+L+2 bytes (9..264).
 *
 * A back reference copies from `distance = offset + 1` bytes before the current end of the
 * output, where the 13-bit offset is the five low bits of the control byte (high part) and
 * the last byte (low part), so distances run from 1 to 8192. The copy goes forward byte by
 * byte: a reference may overlap the bytes it produces, which is how a run like "aaaa..."
 * becomes one literal and one reference with distance 1. The stream carries no length
 * header; the RDB string encoding stores the compressed and the original length around it.
 *
 * ## The compressor's choices (liblzf 3.6, as Redis builds it)
 *
 * Redis 7.0 bundles liblzf 3.6; Debian's redis-server links the system liblzf 3.6 instead.
 * Both use HLOG 16, VERY_FAST 1, ULTRA_FAST 0, INIT_HTAB 0 and CHECK_INPUT 1, and both give
 * the output described here, which the tests compare with a real redis-server.
 *
 * - A hash table of 2^16 slots (HLOG 16) remembers the last position of each 3-byte
 *   sequence. The hash is liblzf's VERY_FAST one: with h the 24-bit big-endian value of the
 *   three bytes, slot = ((h >> 8) - h * 5) & 0xffff. At each position the slot is read and
 *   overwritten with the current position.
 * - The slot's old position is a match when it lies after the first input byte (position 0
 *   is never referenced), at most 8192 bytes back, and its three bytes are equal. There is no
 *   search for a better candidate: the first hit is taken, greedily extended up to 264
 *   bytes, and never more than the input holds (with one quirk kept here: liblzf compares
 *   bytes 3..18 unconditionally once more than 16 bytes may match, so such a match is at
 *   least 19 bytes long when all of them are equal, even if its nominal cap is 17 or 18).
 * - After a match only the last two positions it covered are hashed (VERY_FAST), not all of
 *   them, and the scan resumes after the match.
 * - A match may start as late as three bytes before the end (older liblzf versions stopped
 *   earlier); the last two input bytes are always literals, as no 3-byte sequence starts
 *   there.
 * - Output limits are checked exactly where liblzf checks them, because the `len - 4` limit
 *   makes "does it fit" part of the observable result: a back reference needs more than
 *   four bytes of room (its three bytes and the next run's control byte, one to spare); a
 *   literal needs one byte; the final tail of at most two literals needs three.
 *
 * ## The hash table between calls
 *
 * Redis's liblzf is built with INIT_HTAB 0: the table lives uninitialised on the C stack, so
 * a slot not yet written during the current call holds whatever an earlier call left there.
 * That never changes the output, and this module relies on the same fact to skip clearing
 * its table: a slot is consulted at position q for the 3-byte sequence T found there. If T
 * occurred before q, its first occurrence was hashed: every position is hashed except those
 * inside a back reference whose 3 bytes lie wholly inside it, and those bytes were copied
 * from an earlier occurrence. So the slot already holds a position of the current call. If T did not occur before q, no
 * position before q holds T, so a stale entry fails the byte comparison like any other.
 * Either way the result is that of a clean table, provided a stale entry is only ever
 * compared as a position inside the current input, strictly between its first byte and q.
 *
 * Both functions work on (array, start, length) views and allocate nothing per call.
 */

/** log2 of the number of hash slots (liblzf's HLOG as Redis builds it). */
const HASH_LOG = 16;
const HASH_SIZE = 1 << HASH_LOG;
/** Longest literal run one control byte can announce (000LLLLL, L+1). */
const MAX_LITERAL_RUN = 32;
/** Farthest back a reference may point: 13 bits of offset, distance = offset + 1. */
const MAX_DISTANCE = 8192;
/** Longest back reference: 7 + 255 + 2 bytes. */
const MAX_MATCH = 264;
/** liblzf's unrolled comparison reaches this length before it looks at its cap again. */
const UNROLLED_MATCH = 19;
/** Shortest match worth a reference: the 3 bytes the hash covers. */
const MIN_MATCH = 3;

/**
 * Slot -> position (relative to the input's start) last hashed there, shared by all calls
 * and never cleared (see above). 32-bit positions, like liblzf's `unsigned int` lengths.
 */
const hashTable = new Uint32Array(HASH_SIZE);
/** Longest input the 32-bit positions can describe (liblzf's length is 32-bit too). */
const MAX_INPUT = 0xffffffff;

/** Slot of a 3-byte sequence given as a 24-bit big-endian value (liblzf's VERY_FAST IDX). */
function hashSlot(trigram: number): number {
  return ((trigram >>> 8) - trigram * 5) & (HASH_SIZE - 1);
}

/** Throws when [start, start + len) is not inside buf: a caller bug, never a data error. */
function assertView(buf: Uint8Array, start: number, len: number, what: string): void {
  if (!(Number.isInteger(start) && Number.isInteger(len) && start >= 0 && len >= 0 && start + len <= buf.length)) {
    throw new RangeError(`lzf: ${what} view [${start}, +${len}) outside a buffer of ${buf.length} bytes`);
  }
}

/**
 * Compresses input[inStart, inStart + inLen) into output from outStart, writing at most
 * outLimit bytes. Returns the compressed length, or 0 when the result does not fit in
 * outLimit bytes (or either length is 0, or the input exceeds 4 GB, where liblzf's 32-bit
 * length gives out too). Redis calls it with outLimit = inLen - 4.
 */
export function lzfCompress(
  input: Uint8Array,
  inStart: number,
  inLen: number,
  output: Uint8Array,
  outStart: number,
  outLimit: number,
): number {
  assertView(input, inStart, inLen, "input");
  assertView(output, outStart, outLimit, "output");
  if (inLen === 0 || outLimit === 0 || inLen > MAX_INPUT) return 0;

  const inEnd = inStart + inLen;
  const outEnd = outStart + outLimit;
  // The last position where a 3-byte sequence can start, plus one.
  const scanEnd = inEnd - 2;
  let ip = inStart;
  let op = outStart + 1; // Byte 0 is the control byte of the first literal run.
  let lit = 0; // Bytes in the open literal run; its control byte sits at op - lit - 1.
  let trigram = inLen >= 2 ? (input[ip]! << 8) | input[ip + 1]! : 0;

  while (ip < scanEnd) {
    trigram = ((trigram << 8) | input[ip + 2]!) & 0xffffff;
    const slot = hashSlot(trigram);
    // A stale position from an earlier call may lie anywhere, even past ip: the range
    // checks keep every candidate inside (inStart, ip), as the clean-table argument needs.
    const ref = inStart + hashTable[slot]!;
    hashTable[slot] = ip - inStart;
    const offset = ip - ref - 1;

    if (
      ref > inStart &&
      offset >= 0 &&
      offset < MAX_DISTANCE &&
      input[ref + 2] === input[ip + 2] &&
      input[ref] === input[ip] &&
      input[ref + 1] === input[ip + 1]
    ) {
      // Room for the reference (3 bytes at most) and the next control byte; the first,
      // conservative form of liblzf's test is implied by this exact one.
      if (op - (lit === 0 ? 1 : 0) + 4 >= outEnd) return 0;
      if (lit > 0) output[op - lit - 1] = lit - 1;
      else op--; // Nothing in the open run: its reserved control byte is reused.

      const matched = matchLength(input, ref, ip, inEnd);
      op = writeReference(output, op, offset, matched);
      lit = 0;
      op++; // Reserve the next run's control byte.
      ip += matched;
      if (ip >= scanEnd) break;

      trigram = hashMatchEnd(input, inStart, ip);
    } else {
      if (op >= outEnd) return 0;
      output[op++] = input[ip++]!;
      if (++lit === MAX_LITERAL_RUN) {
        output[op - lit - 1] = lit - 1;
        lit = 0;
        op++;
      }
    }
  }

  // At most two bytes remain; liblzf wants room for them and a control byte.
  if (op + 3 > outEnd) return 0;
  while (ip < inEnd) {
    output[op++] = input[ip++]!;
    if (++lit === MAX_LITERAL_RUN) {
      output[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  if (lit > 0) output[op - lit - 1] = lit - 1;
  else op--; // Drop the reserved control byte of an empty run.
  return op - outStart;
}

/**
 * Hashes the last two positions a match covered, ending just before ip (VERY_FAST hashes
 * no others). Returns the running hash value for the scan to resume at ip.
 */
function hashMatchEnd(input: Uint8Array, inStart: number, ip: number): number {
  let trigram = (input[ip - 2]! << 16) | (input[ip - 1]! << 8) | input[ip]!;
  hashTable[hashSlot(trigram)] = ip - 2 - inStart;
  trigram = ((trigram << 8) | input[ip + 1]!) & 0xffffff;
  hashTable[hashSlot(trigram)] = ip - 1 - inStart;
  return trigram;
}

/**
 * Length of the match between the bytes at ref and at ip, whose first three bytes are
 * known equal. The cap is the input left after ip minus 2, at most MAX_MATCH, except that
 * liblzf compares bytes up to UNROLLED_MATCH unconditionally when the cap exceeds 16 (the
 * input then holds at least 19 bytes after ip, so that never reads past it).
 */
function matchLength(input: Uint8Array, ref: number, ip: number, inEnd: number): number {
  const cap = Math.min(inEnd - ip - 2, MAX_MATCH);
  const limit = cap > 16 ? Math.max(cap, UNROLLED_MATCH) : cap;
  let len = MIN_MATCH;
  while (len < limit && input[ref + len] === input[ip + len]) len++;
  return len;
}

/** Writes a back reference of `matched` bytes (3..264) at op; returns the new op. */
function writeReference(output: Uint8Array, op: number, offset: number, matched: number): number {
  const encoded = matched - 2; // 1..262
  if (encoded < 7) {
    output[op++] = (offset >> 8) + (encoded << 5);
  } else {
    output[op++] = (offset >> 8) + (7 << 5);
    output[op++] = encoded - 7;
  }
  output[op++] = offset & 0xff;
  return op;
}

/** Back references at least this long, and not overlapping their source, use copyWithin. */
const BULK_COPY_MIN = 32;

/**
 * Decompresses input[inStart, inStart + inLen) into output from outStart, writing at most
 * outLen bytes. Returns the number of bytes written, or 0 when the input is corrupt (a run
 * or reference reaching past the input, a reference before the start of the output) or
 * does not fit in outLen bytes. Each block consumes at least one input byte, so a corrupt
 * stream ends the loop as surely as a good one. Redis treats any result other than the
 * expected original length as a corrupt RDB string.
 */
export function lzfDecompress(
  input: Uint8Array,
  inStart: number,
  inLen: number,
  output: Uint8Array,
  outStart: number,
  outLen: number,
): number {
  assertView(input, inStart, inLen, "input");
  assertView(output, outStart, outLen, "output");
  if (inLen === 0) return 0;

  const inEnd = inStart + inLen;
  const outEnd = outStart + outLen;
  let ip = inStart;
  let op = outStart;
  do {
    const ctrl = input[ip++]!;
    if (ctrl < MAX_LITERAL_RUN) {
      const run = ctrl + 1;
      if (op + run > outEnd || ip + run > inEnd) return 0;
      for (let i = 0; i < run; i++) output[op + i] = input[ip + i]!;
      op += run;
      ip += run;
      continue;
    }

    let count = (ctrl >> 5) + 2;
    if (ip >= inEnd) return 0;
    if (count === 9) {
      count += input[ip++]!;
      if (ip >= inEnd) return 0;
    }
    const ref = op - ((ctrl & 0x1f) << 8) - 1 - input[ip++]!;
    if (op + count > outEnd || ref < outStart) return 0;
    if (count >= BULK_COPY_MIN && op - ref >= count) {
      output.copyWithin(op, ref, ref + count);
    } else {
      // Forward byte copy: an overlapping reference repeats the bytes it just wrote.
      for (let i = 0; i < count; i++) output[op + i] = output[ref + i]!;
    }
    op += count;
  } while (ip < inEnd);
  return op - outStart;
}
