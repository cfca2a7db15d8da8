// HyperLogLog values (Redis's hyperloglog.c): the hash, the two representations Redis
// stores in a plain string, and the register-histogram estimator of Redis 7.0. Every byte
// is Redis's, so an HLL made by either server can be GET from one and SET into the other.
//
// A value is a 16-byte header followed by the registers:
//
//   "HYLL"  encoding (0 dense, 1 sparse)  3 unused bytes  cached cardinality (8 bytes LE)
//
// The top bit of the cached cardinality's last byte marks the cache invalid. Dense: 16384
// registers of 6 bits packed from the least significant bit of each byte on. Sparse: a run
// length code over the registers, one opcode after another:
//
//   ZERO   00xxxxxx            a run of x+1 (1..64) registers at zero
//   XZERO  01xxxxxx yyyyyyyy   a run of xy+1 (1..16384) registers at zero
//   VAL    1vvvvvxx            a run of x+1 (1..4) registers at value v+1 (1..32)
//
// A sparse value becomes dense once an edit would make it longer than
// `hll-sparse-max-bytes` or a register needs a value above 32.
//
// Commands edit one HLL at a time through the edit functions below: a sparse value is
// edited in a work buffer and stored back with setRawString; a dense one is edited in
// place in a buffer this module owns (the key's stored value), since copying 12 KB per
// PFADD would cost more than the add.

import type { Db } from "./db.ts";
import { Enc, metaEnc } from "./object.ts";
import { setRawString, stringBytes } from "./string.ts";

/** Register index bits (Redis's HLL_P) and the hash bits left to count zeros in (HLL_Q). */
const HLL_P = 14;
export const HLL_Q = 64 - HLL_P;
export const HLL_REGISTERS = 1 << HLL_P;
const HLL_P_MASK = HLL_REGISTERS - 1;
const HLL_BITS = 6;
const HLL_REGISTER_MAX = (1 << HLL_BITS) - 1;
export const HLL_HDR_SIZE = 16;
export const HLL_DENSE_SIZE = HLL_HDR_SIZE + ((HLL_REGISTERS * HLL_BITS + 7) >>> 3);

export const HLL_DENSE = 0;
export const HLL_SPARSE = 1;
const HLL_MAX_ENCODING = 1;

/** Where the header fields are. */
const ENCODING_AT = 4;
const CARD_AT = 8;
const CARD_HIGH_AT = 15;
const CACHE_INVALID_BIT = 0x80;

const SPARSE_VAL_MAX_VALUE = 32;
const SPARSE_VAL_MAX_LEN = 4;
const SPARSE_ZERO_MAX_LEN = 64;

/** Redis's HLL_ALPHA_INF, the bias constant of the estimator for an infinite register count. */
const HLL_ALPHA_INF = 0.721347520444481703680;

/** The seed Redis gives MurmurHash64A for HLL elements. */
const HLL_HASH_SEED = 0xadc83b19;

// ---------------------------------------------------------------------------
// MurmurHash64A over 32-bit halves. JS has no 64-bit integer arithmetic short of BigInt,
// which allocates; every 64-bit value is a (high, low) pair of unsigned 32-bit numbers.

/** The multiplier m = 0xc6a4a7935bd1e995, in halves and the low half in 16-bit pieces. */
const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;
const M_LO_0 = M_LO & 0xffff;
const M_LO_1 = M_LO >>> 16;

/** The high half of the last product mulM returned the low half of. */
let productHi = 0;

/** (hi, lo) * m mod 2^64: returns the low half and leaves the high half in productHi. */
function mulM(hi: number, lo: number): number {
  const a0 = lo & 0xffff;
  const a1 = lo >>> 16;
  const p00 = a0 * M_LO_0;
  const p01 = a0 * M_LO_1;
  const p10 = a1 * M_LO_0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const carry = a1 * M_LO_1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  productHi = (carry + Math.imul(hi, M_LO) + Math.imul(lo, M_HI)) >>> 0;
  return ((mid << 16) | (p00 & 0xffff)) >>> 0;
}

/** Little-endian 32 bits at p. */
function le32(buf: Uint8Array, p: number): number {
  return (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
}

/** The high half of the last murmur64a hash (its low half is the return value). */
let hashHi = 0;

/** MurmurHash64A of buf[start, start+len) with Redis's seed: returns the low half. */
export function murmur64a(buf: Uint8Array, start: number, len: number): number {
  let lo = (mulM(0, len) ^ HLL_HASH_SEED) >>> 0;
  let hi = productHi;
  const blocksEnd = start + len - (len & 7);
  let p = start;
  for (; p < blocksEnd; p += 8) {
    let kLo = mulM(le32(buf, p + 4), le32(buf, p));
    let kHi = productHi;
    kLo = (kLo ^ (kHi >>> 15)) >>> 0;
    kLo = mulM(kHi, kLo);
    kHi = productHi;
    lo = mulM((hi ^ kHi) >>> 0, (lo ^ kLo) >>> 0);
    hi = productHi;
  }
  const tail = len & 7;
  if (tail !== 0) {
    // The tail's bytes land in the low 56 bits, little-endian, like a short last block.
    for (let k = tail - 1; k >= 4; k--) hi ^= buf[p + k]! << ((k - 4) * 8);
    for (let k = Math.min(tail, 4) - 1; k >= 0; k--) lo ^= buf[p + k]! << (k * 8);
    lo = mulM(hi >>> 0, lo >>> 0);
    hi = productHi;
  }
  lo = (lo ^ (hi >>> 15)) >>> 0;
  lo = mulM(hi, lo);
  hi = productHi;
  lo = (lo ^ (hi >>> 15)) >>> 0;
  hashHi = hi;
  return lo;
}

/** The high half of the hash murmur64a returned last. */
export function lastHashHigh(): number {
  return hashHi;
}

/**
 * Redis's hllPatLen: the register an element goes to (the hash's low 14 bits) and the
 * register value it proposes (1 + the zeros above them, at most HLL_Q + 1), packed as
 * `count << 14 | index`.
 */
export function hllPattern(buf: Uint8Array, start: number, len: number): number {
  const lo = murmur64a(buf, start, len);
  const hi = hashHi;
  const index = lo & HLL_P_MASK;
  const above = lo >>> HLL_P;
  let zeros: number;
  if (above !== 0) zeros = 31 - Math.clz32(above & -above);
  else if (hi !== 0) zeros = 32 - HLL_P + 31 - Math.clz32(hi & -hi);
  else zeros = HLL_Q;
  return ((zeros + 1) << HLL_P) | index;
}

// ---------------------------------------------------------------------------
// Dense registers, in a buffer that holds the header too.

/** Register `reg` of a dense value. The last register ends inside its byte. */
export function denseGet(hll: Uint8Array, reg: number): number {
  const bit = reg * HLL_BITS;
  const at = HLL_HDR_SIZE + (bit >>> 3);
  const shift = bit & 7;
  const next = at + 1 < hll.length ? hll[at + 1]! : 0;
  return ((hll[at]! >>> shift) | (next << (8 - shift))) & HLL_REGISTER_MAX;
}

/** Sets register `reg` of a dense value to `value`. */
export function denseSetRegister(hll: Uint8Array, reg: number, value: number): void {
  const bit = reg * HLL_BITS;
  const at = HLL_HDR_SIZE + (bit >>> 3);
  const shift = bit & 7;
  hll[at] = (hll[at]! & ~(HLL_REGISTER_MAX << shift)) | (value << shift);
  if (at + 1 < hll.length) {
    hll[at + 1] = (hll[at + 1]! & ~(HLL_REGISTER_MAX >>> (8 - shift))) | (value >>> (8 - shift));
  }
}

/** Redis's hllDenseSet: raises register `reg` to `count`; returns 1 when it rose. */
function denseRaise(hll: Uint8Array, reg: number, count: number): number {
  if (count <= denseGet(hll, reg)) return 0;
  denseSetRegister(hll, reg, count);
  return 1;
}

// ---------------------------------------------------------------------------
// Sparse opcodes

function isZero(op: number): boolean {
  return (op & 0xc0) === 0;
}

function isXZero(op: number): boolean {
  return (op & 0xc0) === 0x40;
}

function zeroLen(op: number): number {
  return (op & 0x3f) + 1;
}

function xzeroLen(op: number, next: number): number {
  return (((op & 0x3f) << 8) | next) + 1;
}

function valValue(op: number): number {
  return ((op >>> 2) & 0x1f) + 1;
}

function valLen(op: number): number {
  return (op & 0x3) + 1;
}

function valOp(value: number, len: number): number {
  return 0x80 | ((value - 1) << 2) | (len - 1);
}

/** The byte after an opcode byte, 0 past the end (Redis reads the sds terminator there). */
function byteAfter(buf: Uint8Array, p: number, end: number): number {
  return p + 1 < end ? buf[p + 1]! : 0;
}

// Reading a sparse value run by run. The reader keeps its place in module variables, so
// that the walks below (merge, conversion, histogram, decoding) share one decoder without
// a callback per run.

let runBuf: Uint8Array = new Uint8Array(0);
let runAt = 0;
let runEnd = 0;
/** The run nextRun decoded: its length, its value (0 for ZERO and XZERO), its opcode bytes. */
let runLen = 0;
let runValue = 0;
let runOpLen = 0;

/** Starts reading the opcodes of hll[HLL_HDR_SIZE, len). */
function beginRuns(hll: Uint8Array, len: number): void {
  runBuf = hll;
  runAt = HLL_HDR_SIZE;
  runEnd = len;
}

/** Decodes the next opcode into runLen, runValue and runOpLen; false past the end. */
function nextRun(): boolean {
  if (runAt >= runEnd) return false;
  const op = runBuf[runAt]!;
  if (isZero(op)) {
    runLen = zeroLen(op);
    runValue = 0;
    runOpLen = 1;
  } else if (isXZero(op)) {
    runLen = xzeroLen(op, byteAfter(runBuf, runAt, runEnd));
    runValue = 0;
    runOpLen = 2;
  } else {
    runLen = valLen(op);
    runValue = valValue(op);
    runOpLen = 1;
  }
  runAt += runOpLen;
  return true;
}

/**
 * The registers of a value, sparse or dense, raised into `max` (one byte per register):
 * Redis's hllMerge. Returns false when a sparse value does not cover exactly every
 * register.
 */
export function mergeRegisters(max: Uint8Array, hll: Uint8Array): boolean {
  if (hll[ENCODING_AT] === HLL_DENSE) {
    unpackDense(hll);
    for (let reg = 0; reg < HLL_REGISTERS; reg++) if (unpacked[reg]! > max[reg]!) max[reg] = unpacked[reg]!;
    return true;
  }
  let reg = 0;
  beginRuns(hll, hll.length);
  while (nextRun()) {
    if (runValue !== 0) {
      if (runLen + reg > HLL_REGISTERS) return false;
      for (let k = reg; k < reg + runLen; k++) if (runValue > max[k]!) max[k] = runValue;
    }
    reg += runLen;
  }
  return reg === HLL_REGISTERS;
}

/** The registers of the last dense value unpackDense read, one per byte. */
const unpacked = new Uint8Array(HLL_REGISTERS);

/**
 * Reads every register of a dense value into `unpacked`, four registers from each three
 * bytes, as Redis's unrolled loop does: a whole-HLL pass costs a few microseconds instead
 * of one denseGet per register.
 */
function unpackDense(hll: Uint8Array): void {
  let p = HLL_HDR_SIZE;
  for (let reg = 0; reg < HLL_REGISTERS; reg += 4, p += 3) {
    const b0 = hll[p]!;
    const b1 = hll[p + 1]!;
    const b2 = hll[p + 2]!;
    unpacked[reg] = b0 & 63;
    unpacked[reg + 1] = ((b0 >>> 6) | (b1 << 2)) & 63;
    unpacked[reg + 2] = ((b1 >>> 4) | (b2 << 4)) & 63;
    unpacked[reg + 3] = b2 >>> 2;
  }
}

/**
 * Redis's hllSparseToDense: the dense form of a sparse value (header copied, cached
 * cardinality included), or null when the opcodes do not cover exactly every register.
 */
export function sparseToDense(sparse: Uint8Array, sparseLen: number): Uint8Array | null {
  const dense = new Uint8Array(HLL_DENSE_SIZE);
  for (let k = 0; k < HLL_HDR_SIZE; k++) dense[k] = sparse[k]!;
  dense[ENCODING_AT] = HLL_DENSE;
  let reg = 0;
  beginRuns(sparse, sparseLen);
  while (nextRun()) {
    if (runValue !== 0) {
      if (runLen + reg > HLL_REGISTERS) return null;
      for (let k = reg; k < reg + runLen; k++) denseSetRegister(dense, k, runValue);
    }
    reg += runLen;
  }
  return reg === HLL_REGISTERS ? dense : null;
}

/** Redis's PFDEBUG DECODE text of a sparse value: "z:N", "Z:N" and "v:value,N" runs. */
export function decodeSparse(hll: Uint8Array): string {
  const parts: string[] = [];
  beginRuns(hll, hll.length);
  while (nextRun()) {
    if (runValue !== 0) parts.push(`v:${runValue},${runLen}`);
    else parts.push(`${runOpLen === 1 ? "z" : "Z"}:${runLen}`);
  }
  return parts.join(" ");
}

// ---------------------------------------------------------------------------
// The estimator (Redis 7.0's hllCount: Otmar Ertl's improved raw estimator over the
// histogram of register values).

/** How many registers hold each value; 64 slots since a crafted dense value may hold up to 63. */
const histogram = new Int32Array(64);

/** Fills `histogram` from a value. Returns false when a sparse value is malformed. */
function fillHistogram(hll: Uint8Array): boolean {
  histogram.fill(0);
  if (hll[ENCODING_AT] === HLL_DENSE) {
    unpackDense(hll);
    for (let reg = 0; reg < HLL_REGISTERS; reg++) histogram[unpacked[reg]!]!++;
    return true;
  }
  let reg = 0;
  beginRuns(hll, hll.length);
  while (nextRun()) {
    reg += runLen;
    histogram[runValue]! += runLen;
  }
  return reg === HLL_REGISTERS;
}

/** Redis's hllSigma: the correction for registers still at zero. */
function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let previous: number;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (previous !== z);
  return z;
}

/** Redis's hllTau: the correction for registers at their maximum. */
function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let previous: number;
  do {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    const d = 1 - x;
    z -= d * d * y;
  } while (previous !== z);
  return z / 3;
}

/**
 * What Redis's count becomes when the estimate does not fit a long long (every register
 * at its maximum gives an infinite one): llroundl's x86 result, whose bits as a uint64
 * are 2^63. PFCOUNT replies it as -9223372036854775808, and since its top bit is the
 * cache's invalid mark, the cache it writes stays invalid.
 */
export const HLL_COUNT_OVERFLOW = 2 ** 63;

/** The estimate from `histogram`, rounded half away from zero as llroundl does. */
function estimateFromHistogram(): number {
  const m = HLL_REGISTERS;
  let z = m * tau((m - histogram[HLL_Q + 1]!) / m);
  for (let j = HLL_Q; j >= 1; j--) {
    z += histogram[j]!;
    z *= 0.5;
  }
  z += m * sigma(histogram[0]! / m);
  const estimate = Math.round((HLL_ALPHA_INF * m * m) / z);
  return estimate < HLL_COUNT_OVERFLOW ? estimate : HLL_COUNT_OVERFLOW;
}

/** Redis's hllCount of a stored value, or -1 when a sparse value is malformed. */
export function hllCount(hll: Uint8Array): number {
  if (!fillHistogram(hll)) return -1;
  return estimateFromHistogram();
}

/** Redis's hllCount of registers held one per byte (its internal HLL_RAW encoding). */
export function rawCount(registers: Uint8Array): number {
  histogram.fill(0);
  for (let reg = 0; reg < HLL_REGISTERS; reg++) histogram[registers[reg]!]!++;
  return estimateFromHistogram();
}

// ---------------------------------------------------------------------------
// The header

/**
 * Redis's isHLLObjectOrReply test on a string's bytes: the magic, a known encoding, and
 * the exact size for dense. The caller rules out int-encoded strings first.
 */
export function isHll(bytes: Uint8Array): boolean {
  if (bytes.length < HLL_HDR_SIZE) return false;
  if (bytes[0] !== 72 || bytes[1] !== 89 || bytes[2] !== 76 || bytes[3] !== 76) return false; // "HYLL"
  const encoding = bytes[ENCODING_AT]!;
  if (encoding > HLL_MAX_ENCODING) return false;
  return encoding !== HLL_DENSE || bytes.length === HLL_DENSE_SIZE;
}

export function hllEncoding(bytes: Uint8Array): number {
  return bytes[ENCODING_AT]!;
}

/** Whether the cached cardinality may be used. */
export function cacheValid(bytes: Uint8Array): boolean {
  return (bytes[CARD_HIGH_AT]! & CACHE_INVALID_BIT) === 0;
}

/** The cached cardinality: a number when it is a safe integer, else a bigint. */
export function cachedCard(bytes: Uint8Array): number | bigint {
  const lo = le32(bytes, CARD_AT);
  const hi = le32(bytes, CARD_AT + 4);
  if (hi < 0x200000) return hi * 0x100000000 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function writeCard(bytes: Uint8Array, card: number): void {
  const hi = Math.floor(card / 0x100000000);
  const lo = card >>> 0;
  for (let k = 0; k < 4; k++) {
    bytes[CARD_AT + k] = lo >>> (k * 8);
    bytes[CARD_AT + 4 + k] = hi >>> (k * 8);
  }
}

// ---------------------------------------------------------------------------
// Editing one HLL. A command begins an edit on a key (or a new empty HLL), adds or raises
// registers, and commits. Sparse bytes live in `work` (followed by a zero byte, the sds
// terminator Redis's code reads past the end); once dense, the registers live in `dense`.

let work = new Uint8Array(4096);
let workLen = 0;
let dense: Uint8Array | null = null;
/** Whether `dense` is already the key's stored value (edited in place). */
let denseStored = false;
/** Whether the edit changed anything that must be stored. */
let changed = false;
/** The sparse size limit of the running edit (hll-sparse-max-bytes). */
let sparseMaxBytes = 3000;

/** Dense buffers stored as a key's value by this module, which no one else holds. */
const owned = new WeakSet<Uint8Array>();

/** Makes room in `work` for `len` bytes and its terminator. */
function reserveWork(len: number): void {
  if (len + 1 <= work.length) return;
  const bigger = new Uint8Array(Math.max(len + 1, work.length * 2));
  bigger.set(work.subarray(0, workLen + 1));
  work = bigger;
}

function setWorkLen(len: number): void {
  workLen = len;
  work[len] = 0;
}

/** Redis's createHLLObject: a sparse HLL of 16384 zero registers with a valid cache of 0. */
export function editNew(maxBytes: number): void {
  sparseMaxBytes = maxBytes;
  dense = null;
  denseStored = false;
  changed = true;
  reserveWork(HLL_HDR_SIZE + 2);
  work.fill(0, 0, HLL_HDR_SIZE);
  work[0] = 72; // H
  work[1] = 89; // Y
  work[2] = 76; // L
  work[3] = 76; // L
  work[ENCODING_AT] = HLL_SPARSE;
  work[HLL_HDR_SIZE] = 0x40 | ((HLL_REGISTERS - 1) >>> 8);
  work[HLL_HDR_SIZE + 1] = (HLL_REGISTERS - 1) & 0xff;
  setWorkLen(HLL_HDR_SIZE + 2);
}

/**
 * Begins editing the valid HLL of `id`, first making its value a raw string of its own
 * as Redis's dbUnshareStringValue does (an embstr HLL set by SET becomes raw).
 */
export function editBegin(db: Db, id: number, maxBytes: number): void {
  sparseMaxBytes = maxBytes;
  changed = false;
  const bytes = stringBytes(db, id);
  if (bytes[ENCODING_AT] === HLL_DENSE) {
    // A value held as an object is that object itself here; any other is copied once
    // into a buffer of this module's own, which later edits change in place.
    let stored = bytes;
    if (!owned.has(stored)) {
      setRawString(db, id, bytes, 0, bytes.length);
      stored = db.table.getObject(id) as Uint8Array;
      owned.add(stored);
    }
    dense = stored;
    denseStored = true;
    return;
  }
  dense = null;
  denseStored = false;
  reserveWork(bytes.length);
  work.set(bytes);
  setWorkLen(bytes.length);
  if (metaEnc(db.table.getMeta(id)) !== Enc.Raw) setRawString(db, id, work, 0, workLen);
}

/** The bytes being edited. */
export function editBytes(): Uint8Array {
  return dense ?? work.subarray(0, workLen);
}

export function editIsSparse(): boolean {
  return dense === null;
}

/** Redis's hllAdd: 1 when a register rose, 0 when none did, -1 on a malformed sparse value. */
export function editAdd(buf: Uint8Array, start: number, len: number): number {
  const pattern = hllPattern(buf, start, len);
  return editRaise(pattern & HLL_P_MASK, pattern >>> HLL_P);
}

/** Raises register `reg` to `count` if it is lower: 1 when it rose, 0 if not, -1 when malformed. */
export function editRaise(reg: number, count: number): number {
  if (dense !== null) {
    const rose = denseRaise(dense, reg, count);
    if (rose) changed = true;
    return rose;
  }
  const result = sparseRaise(reg, count);
  if (result === 1) changed = true;
  return result;
}

/** Converts the edited value to dense (Redis's hllSparseToDense); false when malformed. */
export function editToDense(): boolean {
  if (dense !== null) return true;
  const converted = sparseToDense(work, workLen);
  if (converted === null) return false;
  dense = converted;
  denseStored = false;
  changed = true;
  return true;
}

export function editInvalidateCache(): void {
  // The header is at the same place in either buffer; editBytes would make a view of `work`.
  (dense ?? work)[CARD_HIGH_AT]! |= CACHE_INVALID_BIT;
  changed = true;
}

export function editSetCache(card: number): void {
  writeCard(dense ?? work, card);
  changed = true;
}

/** Stores the edit as the value of `id`, when it changed anything. */
export function editCommit(db: Db, id: number): void {
  if (!changed) return;
  changed = false;
  if (dense === null) return setRawString(db, id, work, 0, workLen);
  if (denseStored) return;
  setRawString(db, id, dense, 0, HLL_DENSE_SIZE);
  owned.add(db.table.getObject(id) as Uint8Array);
  dense = null;
}

/**
 * Redis's hllSparseSet on `work`: raise register `reg` to `count`, splitting the opcode
 * that covers it and merging equal neighbours after, or promote to dense when the value
 * does not fit a VAL opcode or the result would outgrow hll-sparse-max-bytes.
 */
function sparseRaise(reg: number, count: number): number {
  if (count > SPARSE_VAL_MAX_VALUE) return promote(reg, count);
  reserveWork(workLen + 3);
  let end = workLen;
  let p = HLL_HDR_SIZE;
  let first = 0;
  let prev = -1;
  let span = 0;
  while (p < end) {
    const op = work[p]!;
    let opLen = 1;
    if (isZero(op)) span = zeroLen(op);
    else if (op & 0x80) span = valLen(op);
    else {
      span = xzeroLen(op, work[p + 1]!);
      opLen = 2;
    }
    if (reg <= first + span - 1) break;
    prev = p;
    p += opLen;
    first += span;
  }
  if (span === 0 || p >= end) return -1;

  const op = work[p]!;
  const zero = isZero(op);
  const xzero = isXZero(op);
  const afterOp = xzero ? p + 2 : p + 1;
  const next = afterOp >= end ? -1 : afterOp;

  if (!zero && !xzero) {
    if (valValue(op) >= count) return 0;
    if (valLen(op) === 1) {
      work[p] = valOp(count, 1);
      return mergeAround(prev, end);
    }
  } else if (zero && zeroLen(op) === 1) {
    work[p] = valOp(count, 1);
    return mergeAround(prev, end);
  }

  // The general case: the opcode becomes up to three, [before] VAL [after].
  const last = first + span - 1;
  let seqLen = 0;
  if (zero || xzero) {
    if (reg !== first) seqLen = putZeros(seqLen, reg - first);
    sequence[seqLen++] = valOp(count, 1);
    if (reg !== last) seqLen = putZeros(seqLen, last - reg);
  } else {
    const current = valValue(op);
    if (reg !== first) sequence[seqLen++] = valOp(current, reg - first);
    sequence[seqLen++] = valOp(count, 1);
    if (reg !== last) sequence[seqLen++] = valOp(current, last - reg);
  }
  const delta = seqLen - (xzero ? 2 : 1);
  if (delta > 0 && workLen + delta > sparseMaxBytes) return promote(reg, count);
  if (delta !== 0 && next >= 0) work.copyWithin(next + delta, next, end);
  setWorkLen(workLen + delta);
  for (let k = 0; k < seqLen; k++) work[p + k] = sequence[k]!;
  end += delta;
  return mergeAround(prev, end);
}

/** Where sparseRaise builds the opcodes that replace the one it splits (at most 5 bytes). */
const sequence = new Uint8Array(5);

/** Writes a ZERO or XZERO run of `len` registers at sequence[at]; returns the new length. */
function putZeros(at: number, len: number): number {
  if (len > SPARSE_ZERO_MAX_LEN) {
    sequence[at] = 0x40 | ((len - 1) >>> 8);
    sequence[at + 1] = (len - 1) & 0xff;
    return at + 2;
  }
  sequence[at] = len - 1;
  return at + 1;
}

/**
 * After an update, merges adjacent VAL opcodes of equal value whose runs fit one opcode,
 * scanning up to five opcodes from the one before the update, as Redis does. Returns 1.
 */
function mergeAround(prev: number, end: number): number {
  let p = prev >= 0 ? prev : HLL_HDR_SIZE;
  let scans = 5;
  while (p < end && scans-- > 0) {
    const op = work[p]!;
    if (isXZero(op)) {
      p += 2;
      continue;
    }
    if (isZero(op)) {
      p++;
      continue;
    }
    if (p + 1 < end && work[p + 1]! & 0x80) {
      const value = valValue(op);
      const len = valLen(op) + valLen(work[p + 1]!);
      if (value === valValue(work[p + 1]!) && len <= SPARSE_VAL_MAX_LEN) {
        work[p + 1] = valOp(value, len);
        work.copyWithin(p, p + 1, end + 1);
        end--;
        setWorkLen(workLen - 1);
        continue;
      }
    }
    p++;
  }
  work[CARD_HIGH_AT]! |= CACHE_INVALID_BIT;
  return 1;
}

/** Converts to dense and raises the register there (the value always rises: 1). */
function promote(reg: number, count: number): number {
  if (!editToDense()) return -1;
  return denseRaise(dense!, reg, count);
}
