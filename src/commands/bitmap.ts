// Bitmap commands on strings (Redis's bitops.c): SETBIT GETBIT BITCOUNT BITPOS BITOP
// BITFIELD BITFIELD_RO. A bitmap is a plain string whose bits are numbered from the most
// significant bit of its first byte. SETBIT, GETBIT and BITCOUNT are the hot path: they
// read and change the string's bytes where they are stored (store/string.ts `stringAt`),
// allocating nothing once the string is raw. Writes grow the string with zero bytes up to
// the highest bit they touch, never past proto-max-bulk-len.

import type { Client } from "../server/client.ts";
import type { Argv } from "../resp/parser.ts";
import { ObjType } from "../store/object.ts";
import { INLINE_MAX } from "../store/keytable.ts";
import { ERR } from "../resp/errors.ts";
import { keyRange, type CommandDef } from "./table.ts";
import { parseInt64Arg, parseIntArg } from "./args.ts";
import { NOTIFY, notifyArg } from "../server/notify.ts";
import { type Int64, parseLongLong, parsedInt64 } from "../util/numbers.ts";
import { findBit, popcount, popcountBits, readField, writeField } from "../util/bits.ts";
import { adoptRawString, editStringInPlace, locateString, setRawString, stringAt, stringBytes } from "../store/string.ts";

const NO_BYTES = new Uint8Array(0);

// ---------------------------------------------------------------------------------------
// Shared argument parsing and lookup
// ---------------------------------------------------------------------------------------

/**
 * Redis's getBitOffsetFromArgument: argument i as a bit offset, or -1 after replying. For
 * BITFIELD (`fieldBits` > 0) an offset written `#N` means N fields of that width; the
 * product wraps as Redis's int64 multiplication does. The byte the offset falls in must
 * be below proto-max-bulk-len.
 */
function bitOffsetArg(c: Client, i: number, fieldBits: number): number {
  const argv = c.argv;
  let start = argv.start[i]!;
  let len = argv.len[i]!;
  const inFields = fieldBits > 0 && len > 0 && argv.buf[start] === 35; // '#'
  if (inFields) {
    start++;
    len--;
  }
  if (!parseLongLong(argv.buf, start, len)) return badOffset(c);
  let offset = parsedInt64.value;
  if (inFields) {
    offset *= fieldBits;
    if (!parsedInt64.safe || !Number.isSafeInteger(offset)) {
      const exact = (parsedInt64.safe ? BigInt(parsedInt64.value) : parsedInt64.big) * BigInt(fieldBits);
      offset = Number(BigInt.asIntN(64, exact));
    }
  }
  if (offset < 0 || Math.floor(offset / 8) >= c.server.config.protoMaxBulkLen) return badOffset(c);
  return offset;
}

function badOffset(c: Client): number {
  c.w.addErrorBytes(ERR.bitOffset);
  return -1;
}

/**
 * What the last `lookupStringForBit` did to the key: created it, or grew it (Redis's
 * `dirty` out-argument: either counts as a change even when no bit flips).
 */
const bitLookup = { created: false, changed: false };

/**
 * Redis's lookupStringForBitCommand: the string at argument 1 made raw and at least long
 * enough to hold bit `maxBit` (created empty when missing), with `stringAt` pointing at its
 * bytes; or -1 after replying WRONGTYPE.
 */
function lookupStringForBit(c: Client, maxBit: number): number {
  const db = c.db;
  const argv = c.argv;
  const needed = Math.floor(maxBit / 8) + 1;
  let id = db.lookupWriteArg(argv, 1);
  if (id >= 0) {
    if (db.typeOf(id) !== ObjType.String) {
      c.w.addErrorBytes(ERR.wrongType);
      return -1;
    }
    bitLookup.created = false;
    bitLookup.changed = editStringInPlace(db, id, needed);
    return id;
  }
  id = db.insertArg(argv, 1, needed <= INLINE_MAX ? needed : 0);
  setRawString(db, id, NO_BYTES, 0, 0);
  editStringInPlace(db, id, needed);
  bitLookup.created = true;
  bitLookup.changed = true;
  return id;
}

/**
 * After SETBIT or BITFIELD changed the key: signal it (a new key was signalled when
 * added), fire "setbit" (BITFIELD's event too), count the changes.
 */
function afterBitWrite(c: Client, id: number, changes: number): void {
  if (!bitLookup.created) c.db.modified(id);
  notifyArg(c, NOTIFY.STRING, "setbit", 1);
  c.server.dirty += changes;
}

/** Argument i is BIT (true), BYTE (false), or neither (null, after replying a syntax error). */
function bitUnitArg(c: Client, i: number): boolean | null {
  if (c.argv.isOption(i, "bit")) return true;
  if (c.argv.isOption(i, "byte")) return false;
  c.w.addErrorBytes(ERR.syntax);
  return null;
}

/** A start index counted from the end when negative, and not below 0 (it may lie past the end). */
function startIndex(index: number, total: number): number {
  return index < 0 ? Math.max(total + index, 0) : index;
}

/** An end index counted from the end when negative, clamped to [0, total - 1] (-1 when empty). */
function endIndex(index: number, total: number): number {
  if (index < 0) index = Math.max(total + index, 0);
  return index >= total ? total - 1 : index;
}

// ---------------------------------------------------------------------------------------
// SETBIT GETBIT BITCOUNT BITPOS
// ---------------------------------------------------------------------------------------

/** SETBIT key offset value */
function setbitCommand(c: Client): void {
  const offset = bitOffsetArg(c, 2, 0);
  if (offset < 0) return;
  const argv = c.argv;
  if (!parseLongLong(argv.buf, argv.start[3]!, argv.len[3]!) || (parsedInt64.value !== 0 && parsedInt64.value !== 1)) {
    return c.w.addErrorBytes(ERR.bitValue);
  }
  const on = parsedInt64.value;
  const id = lookupStringForBit(c, offset);
  if (id < 0) return;
  const buf = stringAt.buf;
  const at = stringAt.base + Math.floor(offset / 8);
  const mask = 1 << (7 - (offset & 7));
  const old = (buf[at]! & mask) === 0 ? 0 : 1;
  if (bitLookup.changed || old !== on) {
    buf[at] = on === 1 ? buf[at]! | mask : buf[at]! & ~mask;
    afterBitWrite(c, id, 1);
  }
  c.w.addInteger(old);
}

/** GETBIT key offset */
function getbitCommand(c: Client): void {
  const offset = bitOffsetArg(c, 2, 0);
  if (offset < 0) return;
  const db = c.db;
  const id = db.lookupReadArg(c.argv, 1);
  if (id < 0) return c.w.addInteger(0);
  if (db.typeOf(id) !== ObjType.String) return c.w.addErrorBytes(ERR.wrongType);
  locateString(db, id);
  const byte = Math.floor(offset / 8);
  if (byte >= stringAt.len) return c.w.addInteger(0);
  c.w.addInteger((stringAt.buf[stringAt.base + byte]! >> (7 - (offset & 7))) & 1);
}

/** BITCOUNT key [start end [BYTE | BIT]] */
function bitcountCommand(c: Client): void {
  const db = c.db;
  const argc = c.argv.count;
  // Redis looks the key up before it reads the range: a missing key counts 0 whatever follows.
  const id = db.lookupReadArg(c.argv, 1);
  if (id < 0) return c.w.addInteger(0);
  if (db.typeOf(id) !== ObjType.String) return c.w.addErrorBytes(ERR.wrongType);
  if (argc === 2) {
    locateString(db, id);
    return c.w.addInteger(popcount(stringAt.buf, stringAt.base, stringAt.len));
  }
  if (argc !== 4 && argc !== 5) return c.w.addErrorBytes(ERR.syntax);
  const start = parseIntArg(c, 2);
  if (start === null) return;
  const end = parseIntArg(c, 3);
  if (end === null) return;
  // Checked before the unit, so a reversed negative range counts 0 even with a bad unit.
  if (start < 0 && end < 0 && start > end) return c.w.addInteger(0);
  const inBits = argc === 5 ? bitUnitArg(c, 4) : false;
  if (inBits === null) return;
  locateString(db, id);
  const total = inBits ? stringAt.len * 8 : stringAt.len;
  const first = startIndex(start, total);
  const last = endIndex(end, total);
  if (first > last) return c.w.addInteger(0);
  if (inBits) return c.w.addInteger(popcountBits(stringAt.buf, stringAt.base, first, last));
  c.w.addInteger(popcount(stringAt.buf, stringAt.base + first, last - first + 1));
}

/** BITPOS key bit [start [end [BYTE | BIT]]] */
function bitposCommand(c: Client): void {
  const bit = parseIntArg(c, 2);
  if (bit === null) return;
  if (bit !== 0 && bit !== 1) return c.w.addErrorBytes(ERR.bitposBit);
  const db = c.db;
  const argc = c.argv.count;
  // A missing key is an endless run of zeros, whatever range is asked.
  const id = db.lookupReadArg(c.argv, 1);
  if (id < 0) return c.w.addInteger(bit === 1 ? -1 : 0);
  if (db.typeOf(id) !== ObjType.String) return c.w.addErrorBytes(ERR.wrongType);
  if (argc > 6) return c.w.addErrorBytes(ERR.syntax);
  let start = 0;
  let end = -1;
  let inBits = false;
  const endGiven = argc >= 5;
  if (argc >= 4) {
    const startArg = parseIntArg(c, 3);
    if (startArg === null) return;
    start = startArg;
    if (argc === 6) {
      const unit = bitUnitArg(c, 5);
      if (unit === null) return;
      inBits = unit;
    }
    if (endGiven) {
      const endArg = parseIntArg(c, 4);
      if (endArg === null) return;
      end = endArg;
    }
  }
  locateString(db, id);
  const total = inBits ? stringAt.len * 8 : stringAt.len;
  const first = startIndex(start, total);
  const last = endIndex(end, total);
  // An empty range holds neither a 0 nor a 1.
  if (first > last) return c.w.addInteger(-1);
  const firstBit = inBits ? first : first * 8;
  const lastBit = inBits ? last : last * 8 + 7;
  const pos = findBit(stringAt.buf, stringAt.base, firstBit, lastBit, bit);
  if (pos >= 0) return c.w.addInteger(pos);
  // Without an end the string reads as padded with zeros: the first clear bit is past it.
  c.w.addInteger(bit === 0 && !endGiven ? lastBit + 1 : -1);
}

// ---------------------------------------------------------------------------------------
// BITOP
// ---------------------------------------------------------------------------------------

const enum BitOp {
  And,
  Or,
  Xor,
  Not,
}

/** The operation named by argument 1, or null after replying a syntax error. */
function bitOpArg(c: Client): BitOp | null {
  const argv = c.argv;
  if (argv.isOption(1, "and")) return BitOp.And;
  if (argv.isOption(1, "or")) return BitOp.Or;
  if (argv.isOption(1, "xor")) return BitOp.Xor;
  if (argv.isOption(1, "not")) return BitOp.Not;
  c.w.addErrorBytes(ERR.syntax);
  return null;
}

/** The source keys' ids (-1 for a missing key), or null after replying WRONGTYPE. */
function bitopSources(c: Client): Int32Array | null {
  const db = c.db;
  const ids = new Int32Array(c.argv.count - 3);
  for (let j = 0; j < ids.length; j++) {
    const id = db.lookupReadArg(c.argv, j + 3);
    if (id >= 0 && db.typeOf(id) !== ObjType.String) {
      c.w.addErrorBytes(ERR.wrongType);
      return null;
    }
    ids[j] = id;
  }
  return ids;
}

/**
 * The result of `op` over the sources, each zero-padded to the longest (a missing key is
 * empty); an empty array when all are empty.
 */
function computeBitop(op: BitOp, sources: Uint8Array[]): Uint8Array {
  let maxLen = 0;
  for (const s of sources) maxLen = Math.max(maxLen, s.length);
  const out = new Uint8Array(maxLen);
  if (maxLen === 0) return out;
  const first = sources[0]!;
  out.set(first);
  if (op === BitOp.Not) {
    for (let i = 0; i < maxLen; i++) out[i] = ~out[i]! & 0xff;
    return out;
  }
  for (let j = 1; j < sources.length; j++) {
    const s = sources[j]!;
    const len = s.length;
    if (op === BitOp.And) {
      for (let i = 0; i < len; i++) out[i] = out[i]! & s[i]!;
      out.fill(0, len);
    } else if (op === BitOp.Or) {
      for (let i = 0; i < len; i++) out[i] = out[i]! | s[i]!;
    } else {
      for (let i = 0; i < len; i++) out[i] = out[i]! ^ s[i]!;
    }
  }
  return out;
}

/** BITOP AND|OR|XOR|NOT destkey key [key ...] */
function bitopCommand(c: Client): void {
  const op = bitOpArg(c);
  if (op === null) return;
  if (op === BitOp.Not && c.argv.count !== 4) return c.w.addErrorBytes(ERR.bitopNotOneKey);
  const ids = bitopSources(c);
  if (ids === null) return;
  const db = c.db;
  // The bytes are read only once every lookup (which may expire keys) is done.
  const sources: Uint8Array[] = [];
  for (const id of ids) sources.push(id < 0 ? NO_BYTES : stringBytes(db, id));
  const result = computeBitop(op, sources);
  if (result.length > 0) {
    const id = db.setKeyArg(c.argv, 2, false, result.length <= INLINE_MAX ? result.length : 0);
    adoptRawString(db, id, result);
    notifyArg(c, NOTIFY.STRING, "set", 2);
    c.server.dirty++;
  } else {
    const id = db.lookupWriteArg(c.argv, 2);
    if (id >= 0) {
      db.delete(id);
      notifyArg(c, NOTIFY.GENERIC, "del", 2);
      c.server.dirty++;
    }
  }
  c.w.addInteger(result.length);
}

// ---------------------------------------------------------------------------------------
// BITFIELD and BITFIELD_RO
// ---------------------------------------------------------------------------------------

const enum FieldOp {
  Get,
  Set,
  Incrby,
}

const enum Overflow {
  Wrap,
  Sat,
  Fail,
}

/** One parsed BITFIELD operation; the objects are pooled and reused across calls. */
interface FieldOperation {
  op: FieldOp;
  overflow: Overflow;
  signed: boolean;
  bits: number;
  offset: number;
  /** SET's value or INCRBY's increment: a number when it is a safe integer. */
  value: Int64;
}

const fieldOps: FieldOperation[] = [];

/** The field type the last `fieldTypeArg` parsed. */
const fieldType = { signed: false, bits: 0 };

/**
 * Redis's getBitfieldTypeFromArgument: `i1`..`i64` or `u1`..`u63` in fieldType, or false
 * after replying. The width is read as a C string: it ends at a NUL byte.
 */
function fieldTypeArg(c: Client, i: number): boolean {
  const argv = c.argv;
  const start = argv.start[i]!;
  const len = argv.len[i]!;
  const sign = len > 0 ? argv.buf[start]! : 0;
  let digits = 0;
  while (1 + digits < len && argv.buf[start + 1 + digits] !== 0) digits++;
  if ((sign !== 105 && sign !== 117) || !parseLongLong(argv.buf, start + 1, digits)) return badFieldType(c); // 'i', 'u'
  const bits = parsedInt64.value;
  fieldType.signed = sign === 105;
  if (bits < 1 || bits > (fieldType.signed ? 64 : 63)) return badFieldType(c);
  fieldType.bits = bits;
  return true;
}

function badFieldType(c: Client): boolean {
  c.w.addErrorBytes(ERR.bitfieldType);
  return false;
}

/** The OVERFLOW mode named by argument i, or null after replying. */
function overflowArg(c: Client, i: number): Overflow | null {
  const argv = c.argv;
  if (argv.isOption(i, "wrap")) return Overflow.Wrap;
  if (argv.isOption(i, "sat")) return Overflow.Sat;
  if (argv.isOption(i, "fail")) return Overflow.Fail;
  c.w.addErrorBytes(ERR.bitfieldOverflow);
  return null;
}

/** The operation named by argument j when enough arguments follow it, else null. */
function fieldOpAt(argv: Argv, j: number): FieldOp | null {
  const remaining = argv.count - j - 1;
  if (argv.isOption(j, "get") && remaining >= 2) return FieldOp.Get;
  if (argv.isOption(j, "set") && remaining >= 3) return FieldOp.Set;
  if (argv.isOption(j, "incrby") && remaining >= 3) return FieldOp.Incrby;
  return null;
}

/** What `parseFieldOps` found besides the operations themselves. */
const fieldParse = { count: 0, writes: false, highestBit: 0 };

/** Parses every operation into fieldOps; false after replying an error. */
function parseFieldOps(c: Client): boolean {
  const argv = c.argv;
  let overflow = Overflow.Wrap;
  fieldParse.count = 0;
  fieldParse.writes = false;
  fieldParse.highestBit = 0;
  for (let j = 2; j < argv.count; j++) {
    const op = fieldOpAt(argv, j);
    if (op === null) {
      if (!argv.isOption(j, "overflow") || j + 1 >= argv.count) {
        c.w.addErrorBytes(ERR.syntax);
        return false;
      }
      const mode = overflowArg(c, ++j);
      if (mode === null) return false;
      overflow = mode;
      continue;
    }
    if (!fieldTypeArg(c, j + 1)) return false;
    const offset = bitOffsetArg(c, j + 2, fieldType.bits);
    if (offset < 0) return false;
    let value: Int64 = 0;
    if (op !== FieldOp.Get) {
      fieldParse.writes = true;
      fieldParse.highestBit = Math.max(fieldParse.highestBit, offset + fieldType.bits - 1);
      const given = parseInt64Arg(c, j + 3);
      if (given === null) return false;
      value = given;
    }
    storeFieldOp(op, overflow, offset, value);
    j += op === FieldOp.Get ? 2 : 3;
  }
  return true;
}

function storeFieldOp(op: FieldOp, overflow: Overflow, offset: number, value: Int64): void {
  const index = fieldParse.count++;
  const entry: FieldOperation = fieldOps[index] ?? (fieldOps[index] = { op, overflow, signed: false, bits: 0, offset, value });
  entry.op = op;
  entry.overflow = overflow;
  entry.signed = fieldType.signed;
  entry.bits = fieldType.bits;
  entry.offset = offset;
  entry.value = value;
}

/** The field `f` of the located string, as its signed or unsigned value: a number up to 32 bits. */
function fieldValue(f: FieldOperation, len: number): Int64 {
  const raw = readField(stringAt.buf, stringAt.base, len, f.offset, f.bits);
  if (typeof raw === "bigint") return f.signed ? BigInt.asIntN(f.bits, raw) : raw;
  return f.signed && raw >= 2 ** (f.bits - 1) ? raw - 2 ** f.bits : raw;
}

/** Reply with a field's value as an integer. */
function addFieldReply(c: Client, v: Int64): void {
  if (typeof v === "number") c.w.addInteger(v);
  else if (v >= -9007199254740991n && v <= 9007199254740991n) c.w.addInteger(Number(v));
  else c.w.addBigInt(v);
}

/**
 * Amounts up to this size keep a field of at most 32 bits in exact double arithmetic, where
 * Redis's int64 checks cannot wrap around: such fields are computed without bigints.
 */
const SMALL_AMOUNT_MAX = 2 ** 48;

/** fieldResult for a field of at most 32 bits and an amount of at most SMALL_AMOUNT_MAX. */
function smallFieldResult(f: FieldOperation, old: number, amount: number): number | null {
  const range = 2 ** f.bits;
  const min = f.signed ? -range / 2 : 0;
  const max = f.signed ? range / 2 - 1 : range - 1;
  // An unsigned SET of a negative value is, after Redis's uint64 cast, far above the range.
  const castAbove = !f.signed && f.op === FieldOp.Set && amount < 0;
  const target = f.op === FieldOp.Incrby ? old + amount : amount;
  if (!castAbove && target >= min && target <= max) return target;
  if (f.overflow === Overflow.Fail) return null;
  if (f.overflow === Overflow.Sat) return castAbove || target > max ? max : min;
  return ((((target - min) % range) + range) % range) + min;
}

const INT64_MAX = (1n << 63n) - 1n;

/**
 * The value SET or INCRBY stores in field `f` whose value is `old`, after the overflow
 * rule, or null when it overflows under FAIL. SET is an increment of 0 to its value, as
 * in Redis, whose checks this follows step by step in int64 arithmetic (see
 * `signedOverflow`): their wrap-arounds decide some edge cases.
 */
function fieldResult(f: FieldOperation, old: bigint): bigint | null {
  const isIncr = f.op === FieldOp.Incrby;
  const amount = BigInt(f.value);
  // An unsigned SET takes its value as Redis's uint64 cast does: -1 is 2^64-1.
  const value = isIncr ? old : f.signed ? amount : BigInt.asUintN(64, amount);
  const incr = isIncr ? amount : 0n;
  const direction = f.signed ? signedOverflow(value, incr, f.bits) : unsignedOverflow(value, incr, f.bits);
  if (direction === 0) return value + incr;
  if (f.overflow === Overflow.Fail) return null;
  if (f.overflow === Overflow.Wrap) return f.signed ? BigInt.asIntN(f.bits, value + incr) : BigInt.asUintN(f.bits, value + incr);
  if (f.signed) return direction > 0 ? fieldMax(f.bits, true) : -fieldMax(f.bits, true) - 1n;
  return direction > 0 ? fieldMax(f.bits, false) : 0n;
}

/** The largest value of a field. */
function fieldMax(bits: number, signed: boolean): bigint {
  if (signed) return bits === 64 ? INT64_MAX : (1n << BigInt(bits - 1)) - 1n;
  return (1n << BigInt(bits)) - 1n;
}

/** Redis's checkUnsignedBitfieldOverflow: 1 above the field's range, -1 below, 0 within. */
function unsignedOverflow(value: bigint, incr: bigint, bits: number): number {
  const max = fieldMax(bits, false);
  if (value > max || (incr > 0n && incr > BigInt.asIntN(64, max - value))) return 1;
  if (incr < 0n && incr < BigInt.asIntN(64, -value)) return -1;
  return 0;
}

/**
 * Redis's checkSignedBitfieldOverflow, including its int64 wrap-arounds: a SET of a value
 * far below the range can compute a negative `maxincr` and so count as overflowing upward
 * (SAT then stores the maximum).
 */
function signedOverflow(value: bigint, incr: bigint, bits: number): number {
  const max = fieldMax(bits, true);
  const min = -max - 1n;
  const maxIncr = BigInt.asIntN(64, max - value);
  const minIncr = BigInt.asIntN(64, min - value);
  const narrow = bits !== 64;
  if (value > max || (narrow && incr > maxIncr) || (value >= 0n && incr > 0n && incr > maxIncr)) return 1;
  if (value < min || (narrow && incr < minIncr) || (value < 0n && incr < 0n && incr < minIncr)) return -1;
  return 0;
}

/** Runs a SET or INCRBY on the located (grown) string; returns whether it counts as a change. */
function runFieldWrite(c: Client, f: FieldOperation): boolean {
  const old = fieldValue(f, stringAt.len);
  if (typeof old === "number" && typeof f.value === "number" && Math.abs(f.value) <= SMALL_AMOUNT_MAX) {
    return storeField(c, f, old, smallFieldResult(f, old, f.value));
  }
  const exactOld = BigInt(old);
  return storeField(c, f, exactOld, fieldResult(f, exactOld));
}

/** Replies and writes what a SET or INCRBY computed (null: FAIL); returns whether it counts as a change. */
function storeField<T extends Int64>(c: Client, f: FieldOperation, old: T, stored: T | null): boolean {
  if (stored === null) {
    c.w.addNull();
    return false;
  }
  addFieldReply(c, f.op === FieldOp.Incrby ? stored : old);
  writeField(stringAt.buf, stringAt.base, f.offset, f.bits, stored);
  return bitLookup.changed || stored !== old;
}

/** Redis's bitfieldGeneric: BITFIELD, or BITFIELD_RO when `readOnly`. */
function bitfieldGeneric(c: Client, readOnly: boolean): void {
  if (!parseFieldOps(c)) return;
  const db = c.db;
  let id: number;
  if (!fieldParse.writes) {
    id = db.lookupReadArg(c.argv, 1);
    if (id >= 0 && db.typeOf(id) !== ObjType.String) return c.w.addErrorBytes(ERR.wrongType);
    if (id >= 0) locateString(db, id);
    else stringAt.len = 0;
  } else {
    if (readOnly) return c.w.addErrorBytes(ERR.bitfieldRoGetOnly);
    id = lookupStringForBit(c, fieldParse.highestBit);
    if (id < 0) return;
  }
  c.w.addArrayLen(fieldParse.count);
  let changes = 0;
  for (let k = 0; k < fieldParse.count; k++) {
    const f = fieldOps[k]!;
    if (f.op === FieldOp.Get) addFieldReply(c, fieldValue(f, stringAt.len));
    else if (runFieldWrite(c, f)) changes++;
  }
  if (changes > 0) afterBitWrite(c, id, changes);
}

/** BITFIELD key [GET encoding offset | [OVERFLOW WRAP|SAT|FAIL] SET|INCRBY encoding offset value ...] */
function bitfieldCommand(c: Client): void {
  bitfieldGeneric(c, false);
}

/** BITFIELD_RO key [GET encoding offset ...] */
function bitfieldRoCommand(c: Client): void {
  bitfieldGeneric(c, true);
}

/**
 * BITFIELD's key function (Redis's bitfieldGetKeys): the key is only read when every
 * operation is a GET; a SET, an INCRBY or anything malformed makes it read and written.
 */
function bitfieldGetKeys(argv: Argv, base: number, argc: number): { pos: number; flags: string }[] {
  for (let i = 2; i < argc; i++) {
    const remaining = argc - i - 1;
    if (argv.isOption(base + i, "get") && remaining >= 2) i += 2;
    else if (argv.isOption(base + i, "overflow") && remaining >= 1) i += 1;
    else return [{ pos: 1, flags: "RW access update" }];
  }
  return [{ pos: 1, flags: "RO access" }];
}

// ---------------------------------------------------------------------------------------
// Definitions (Redis 7.0's COMMAND INFO and COMMAND DOCS)
// ---------------------------------------------------------------------------------------

const KEY = { name: "key", type: "key", key_spec_index: 0 };
const ENCODING = { name: "encoding", type: "string" };
const OFFSET = { name: "offset", type: "integer" };
const RO_ACCESS = [keyRange("RO access", 1)];
const INDEX_UNIT = {
  name: "index_unit", type: "oneof", flags: ["optional"], since: "7.0.0",
  arguments: [{ name: "byte", type: "pure-token", token: "BYTE" }, { name: "bit", type: "pure-token", token: "BIT" }],
};
const UNIT_HISTORY: [string, string][] = [["7.0.0", "Added the `BYTE|BIT` option."]];
const BITFIELD_COMPLEXITY = "O(1) for each subcommand specified";

export const bitmapCommands: CommandDef[] = [
  {
    name: "setbit", arity: 4, flags: "write denyoom", acl: "bitmap", group: "bitmap", since: "2.2.0",
    summary: "Sets or clears the bit at offset in the string value stored at key", complexity: "O(1)",
    keySpecs: [keyRange("RW access update", 1)],
    arguments: [KEY, OFFSET, { name: "value", type: "integer" }],
    handler: setbitCommand,
  },
  {
    name: "getbit", arity: 3, flags: "readonly fast", acl: "bitmap", group: "bitmap", since: "2.2.0",
    summary: "Returns the bit value at offset in the string value stored at key", complexity: "O(1)",
    keySpecs: RO_ACCESS, arguments: [KEY, OFFSET],
    handler: getbitCommand,
  },
  {
    name: "bitcount", arity: -2, flags: "readonly", acl: "bitmap", group: "bitmap", since: "2.6.0",
    summary: "Count set bits in a string", complexity: "O(N)", history: UNIT_HISTORY, keySpecs: RO_ACCESS,
    arguments: [
      KEY,
      {
        name: "index", type: "block", flags: ["optional"],
        arguments: [{ name: "start", type: "integer" }, { name: "end", type: "integer" }, INDEX_UNIT],
      },
    ],
    handler: bitcountCommand,
  },
  {
    name: "bitpos", arity: -3, flags: "readonly", acl: "bitmap", group: "bitmap", since: "2.8.7",
    summary: "Find first bit set or clear in a string", complexity: "O(N)", history: UNIT_HISTORY, keySpecs: RO_ACCESS,
    arguments: [
      KEY,
      { name: "bit", type: "integer" },
      {
        name: "index", type: "block", flags: ["optional"],
        arguments: [
          { name: "start", type: "integer" },
          {
            name: "end_index", type: "block", flags: ["optional"],
            arguments: [{ name: "end", type: "integer" }, INDEX_UNIT],
          },
        ],
      },
    ],
    handler: bitposCommand,
  },
  {
    name: "bitop", arity: -4, flags: "write denyoom", acl: "bitmap", group: "bitmap", since: "2.6.0",
    summary: "Perform bitwise operations between strings", complexity: "O(N)",
    keySpecs: [keyRange("OW update", 2), keyRange("RO access", 3, -1)],
    arguments: [
      { name: "operation", type: "string" },
      { name: "destkey", type: "key", key_spec_index: 0 },
      { name: "key", type: "key", key_spec_index: 1, flags: ["multiple"] },
    ],
    handler: bitopCommand,
  },
  {
    name: "bitfield", arity: -2, flags: "write denyoom", acl: "bitmap", group: "bitmap", since: "3.2.0",
    summary: "Perform arbitrary bitfield integer operations on strings", complexity: BITFIELD_COMPLEXITY,
    getKeys: bitfieldGetKeys,
    keySpecs: [
      { ...keyRange("RW access update variable_flags", 1), notes: "This command allows both access and modification of the key" },
    ],
    arguments: [
      KEY,
      {
        name: "operation", type: "oneof", flags: ["optional", "multiple"],
        arguments: [
          { name: "encoding_offset", type: "block", token: "GET", arguments: [ENCODING, OFFSET] },
          {
            name: "write", type: "block",
            arguments: [
              {
                name: "wrap_sat_fail", type: "oneof", token: "OVERFLOW", flags: ["optional"],
                arguments: [
                  { name: "wrap", type: "pure-token", token: "WRAP" },
                  { name: "sat", type: "pure-token", token: "SAT" },
                  { name: "fail", type: "pure-token", token: "FAIL" },
                ],
              },
              {
                name: "write_operation", type: "oneof",
                arguments: [
                  { name: "encoding_offset_value", type: "block", token: "SET", arguments: [ENCODING, OFFSET, { name: "value", type: "integer" }] },
                  { name: "encoding_offset_increment", type: "block", token: "INCRBY", arguments: [ENCODING, OFFSET, { name: "increment", type: "integer" }] },
                ],
              },
            ],
          },
        ],
      },
    ],
    handler: bitfieldCommand,
  },
  {
    name: "bitfield_ro", arity: -2, flags: "readonly fast", acl: "bitmap", group: "bitmap", since: "6.0.0",
    summary: "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
    complexity: BITFIELD_COMPLEXITY, keySpecs: RO_ACCESS,
    arguments: [
      KEY,
      { name: "encoding_offset", type: "block", token: "GET", flags: ["optional", "multiple", "multiple_token"], arguments: [ENCODING, OFFSET] },
    ],
    handler: bitfieldRoCommand,
  },
];
