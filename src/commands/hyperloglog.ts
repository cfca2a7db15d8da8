// HyperLogLog commands (Redis's hyperloglog.c): PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST.
// An HLL is a plain string holding Redis's exact bytes; store/hyperloglog.ts knows them.
// Every command that finds a valid HLL first makes it a raw string of its own, as Redis's
// dbUnshareStringValue does, so OBJECT ENCODING says `raw` afterwards.

import type { Client } from "../server/client.ts";
import { ObjType, Enc, metaEnc } from "../store/object.ts";
import { ERR, cString, hllInvalid, hllWrongType } from "../resp/errors.ts";
import { keyRange, type CommandDef } from "./table.ts";
import { OK } from "../resp/writer.ts";
import { NOTIFY, notifyArg } from "../server/notify.ts";
import { stringBytes } from "../store/string.ts";
import {
  HLL_COUNT_OVERFLOW,
  HLL_DENSE,
  HLL_DENSE_SIZE,
  HLL_REGISTERS,
  HLL_SPARSE,
  cacheValid,
  cachedCard,
  decodeSparse,
  denseGet,
  denseSetRegister,
  editAdd,
  editBegin,
  editBytes,
  editCommit,
  editInvalidateCache,
  editIsSparse,
  editNew,
  editRaise,
  editSetCache,
  editToDense,
  hllCount,
  hllEncoding,
  hllPattern,
  isHll,
  mergeRegisters,
  rawCount,
} from "../store/hyperloglog.ts";

/**
 * Redis's isHLLObjectOrReply for a live key: replies and returns false unless it is a
 * string holding a valid HLL (an int-encoded string never is).
 */
function checkHll(c: Client, id: number): boolean {
  const db = c.db;
  if (db.typeOf(id) !== ObjType.String) {
    c.w.addErrorBytes(ERR.wrongType);
    return false;
  }
  if (metaEnc(db.table.getMeta(id)) === Enc.Int || !isHll(stringBytes(db, id))) {
    c.w.addErrorBytes(hllWrongType);
    return false;
  }
  return true;
}

/** PFADD key [element [element ...]] */
function pfaddCommand(c: Client): void {
  const db = c.db;
  const argv = c.argv;
  const maxBytes = c.server.config.hllSparseMaxBytes;
  let id = db.lookupWriteArg(argv, 1);
  let updated = 0;
  if (id < 0) {
    id = db.insertArg(argv, 1);
    editNew(maxBytes);
    updated++;
  } else {
    if (!checkHll(c, id)) return;
    editBegin(db, id, maxBytes);
  }
  for (let j = 2; j < argv.count; j++) {
    const result = editAdd(argv.buf, argv.start[j]!, argv.len[j]!);
    if (result === 1) updated++;
    else if (result < 0) {
      // What was added before the malformed part stays, as in Redis.
      editCommit(db, id);
      return c.w.addErrorBytes(hllInvalid);
    }
  }
  if (updated) editInvalidateCache();
  editCommit(db, id);
  if (updated) {
    db.modified(id);
    notifyArg(c, NOTIFY.STRING, "pfadd", 1);
    c.server.dirty += updated;
  }
  c.w.addInteger(updated ? 1 : 0);
}

/** The registers PFCOUNT and PFMERGE take the maximum into, one byte each. */
const maxRegisters = new Uint8Array(HLL_REGISTERS);

/**
 * Raises maxRegisters to every HLL named from argument `first` on (missing keys count as
 * empty). Replies and returns -1 on a key that is no valid HLL; else returns whether one
 * of them was dense.
 */
function mergeArgs(c: Client, first: number): number {
  const db = c.db;
  maxRegisters.fill(0);
  let anyDense = 0;
  for (let j = first; j < c.argv.count; j++) {
    const id = db.lookupReadArg(c.argv, j);
    if (id < 0) continue;
    if (!checkHll(c, id)) return -1;
    const bytes = stringBytes(db, id);
    if (hllEncoding(bytes) === HLL_DENSE) anyDense = 1;
    if (!mergeRegisters(maxRegisters, bytes)) {
      c.w.addErrorBytes(hllInvalid);
      return -1;
    }
  }
  return anyDense;
}

/** PFCOUNT key [key ...] */
function pfcountCommand(c: Client): void {
  if (c.argv.count > 2) {
    if (mergeArgs(c, 1) < 0) return;
    return addCount(c, rawCount(maxRegisters));
  }
  const db = c.db;
  let id = db.lookupReadArg(c.argv, 1);
  if (id < 0) return c.w.addInteger(0);
  if (!checkHll(c, id)) return;
  if (metaEnc(db.table.getMeta(id)) !== Enc.Raw) {
    id = db.lookupWriteArg(c.argv, 1);
    editBegin(db, id, c.server.config.hllSparseMaxBytes);
  }
  const bytes = stringBytes(db, id);
  if (cacheValid(bytes)) {
    const card = cachedCard(bytes);
    return typeof card === "number" ? c.w.addInteger(card) : c.w.addBigInt(card);
  }
  const card = hllCount(bytes);
  if (card < 0) return c.w.addErrorBytes(hllInvalid);
  // Redis stores the count in the header though PFCOUNT reads: a change to propagate.
  id = db.lookupWriteArg(c.argv, 1);
  editBegin(db, id, c.server.config.hllSparseMaxBytes);
  editSetCache(card);
  editCommit(db, id);
  db.modified(id);
  c.server.dirty++;
  addCount(c, card);
}

/** A count as Redis replies it: addReplyLongLong of the uint64, so 2^63 reads negative. */
function addCount(c: Client, card: number): void {
  if (card === HLL_COUNT_OVERFLOW) c.w.addBigInt(-(2n ** 63n));
  else c.w.addInteger(card);
}

/** PFMERGE destkey [sourcekey [sourcekey ...]] */
function pfmergeCommand(c: Client): void {
  const anyDense = mergeArgs(c, 1);
  if (anyDense < 0) return;
  const db = c.db;
  const maxBytes = c.server.config.hllSparseMaxBytes;
  let id = db.lookupWriteArg(c.argv, 1);
  if (id < 0) {
    id = db.insertArg(c.argv, 1);
    editNew(maxBytes);
  } else {
    editBegin(db, id, maxBytes);
  }
  if (anyDense && !editToDense()) {
    editCommit(db, id);
    return c.w.addErrorBytes(hllInvalid);
  }
  for (let reg = 0; reg < HLL_REGISTERS; reg++) {
    const value = maxRegisters[reg]!;
    if (value !== 0) editRaise(reg, value);
  }
  editInvalidateCache();
  editCommit(db, id);
  db.modified(id);
  // Redis reports a merge as "pfadd": it is a PFADD of many registers at once.
  notifyArg(c, NOTIFY.STRING, "pfadd", 1);
  c.server.dirty++;
  c.w.addRaw(OK);
}

/** PFDEBUG <GETREG | DECODE | ENCODING | TODENSE> key */
function pfdebugCommand(c: Client): void {
  const db = c.db;
  const id = db.lookupWriteArg(c.argv, 2);
  if (id < 0) return c.w.addError("ERR The specified key does not exist");
  if (!checkHll(c, id)) return;
  editBegin(db, id, c.server.config.hllSparseMaxBytes);
  const argv = c.argv;
  if (argv.is(1, "getreg")) return pfdebugGetreg(c, id);
  if (argv.is(1, "decode")) {
    const bytes = editBytes();
    if (hllEncoding(bytes) !== HLL_SPARSE) return c.w.addError("ERR HLL encoding is not sparse");
    return c.w.addBulkLatin1(decodeSparse(bytes));
  }
  if (argv.is(1, "encoding")) return c.w.addSimple(editIsSparse() ? "sparse" : "dense");
  if (argv.is(1, "todense")) {
    if (!editIsSparse()) return c.w.addInteger(0);
    if (!editToDense()) return c.w.addErrorBytes(hllInvalid);
    editCommit(db, id);
    c.server.dirty++;
    return c.w.addInteger(1);
  }
  // Redis prints the name with %s: a NUL byte ends it.
  c.w.addError(`ERR Unknown PFDEBUG subcommand '${cString(argv.str(1), argv.len[1]!)}'`);
}

/** PFDEBUG GETREG key: every register, converting a sparse value to dense for good. */
function pfdebugGetreg(c: Client, id: number): void {
  if (editIsSparse()) {
    if (!editToDense()) return c.w.addErrorBytes(hllInvalid);
    editCommit(c.db, id);
    c.server.dirty++;
  }
  const bytes = stringBytes(c.db, id);
  c.w.addArrayLen(HLL_REGISTERS);
  for (let reg = 0; reg < HLL_REGISTERS; reg++) c.w.addInteger(denseGet(bytes, reg));
}

/** How many times PFSELFTEST fills and reads back every register. */
const SELFTEST_REGISTER_CYCLES = 1000;
/** How many elements PFSELFTEST adds while checking the error at each power of ten. */
const SELFTEST_ELEMENTS = 10_000_000;

/**
 * PFSELFTEST: Redis's self-test of the register packing, and of the estimate's error, on
 * a dense and a sparse HLL fed the same elements, which must agree.
 */
function pfselftestCommand(c: Client): void {
  const failure = selftestRegisters() ?? selftestEstimates(c.server.config.hllSparseMaxBytes);
  if (failure !== null) return c.w.addError(failure);
  c.w.addRaw(OK);
}

/** Random values written to the packed registers must read back, neighbours untouched. */
function selftestRegisters(): string | null {
  const packed = new Uint8Array(HLL_DENSE_SIZE);
  const expected = new Uint8Array(HLL_REGISTERS);
  for (let cycle = 0; cycle < SELFTEST_REGISTER_CYCLES; cycle++) {
    for (let reg = 0; reg < HLL_REGISTERS; reg++) {
      const value = (Math.random() * 64) | 0;
      expected[reg] = value;
      denseSetRegister(packed, reg, value);
    }
    for (let reg = 0; reg < HLL_REGISTERS; reg++) {
      const value = denseGet(packed, reg);
      if (value !== expected[reg]) return `TESTFAILED Register ${reg} should be ${expected[reg]} but is ${value}`;
    }
  }
  return null;
}

/** Estimates within six standard errors at 1, 10, 100 ... elements, dense and sparse equal. */
function selftestEstimates(maxBytes: number): string | null {
  const dense = new Uint8Array(HLL_DENSE_SIZE);
  dense.set([72, 89, 76, 76]);
  editNew(maxBytes);
  const relativeError = 1.04 / Math.sqrt(HLL_REGISTERS);
  const element = new Uint8Array(8);
  const seedLo = (Math.random() * 0x100000000) >>> 0;
  const seedHi = (Math.random() * 0x100000000) >>> 0;
  element.set([seedHi, seedHi >>> 8, seedHi >>> 16, seedHi >>> 24], 4);
  let checkpoint = 1;
  for (let j = 1; j <= SELFTEST_ELEMENTS; j++) {
    const lo = (j ^ seedLo) >>> 0;
    element[0] = lo;
    element[1] = lo >>> 8;
    element[2] = lo >>> 16;
    element[3] = lo >>> 24;
    const pattern = hllPattern(element, 0, 8);
    const reg = pattern & (HLL_REGISTERS - 1);
    const count = pattern >>> 14;
    if (count > denseGet(dense, reg)) denseSetRegister(dense, reg, count);
    editRaise(reg, count);
    if (j !== checkpoint) continue;
    if (j < Math.floor(maxBytes / 2) && !editIsSparse()) return "TESTFAILED sparse encoding not used";
    const estimate = hllCount(dense);
    if (estimate !== hllCount(editBytes())) return "TESTFAILED dense/sparse disagree";
    const maxError = j === 10 ? 1 : Math.ceil(relativeError * 6 * checkpoint);
    const error = Math.abs(checkpoint - estimate);
    if (error > maxError) return `TESTFAILED Too big error. card:${checkpoint} abserr:${error}`;
    checkpoint *= 10;
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// Command table
// ---------------------------------------------------------------------------------------

export const hyperloglogCommands: CommandDef[] = [
  {
    name: "pfadd", arity: -2, flags: "write denyoom fast", acl: "hyperloglog", group: "hyperloglog", since: "2.8.9",
    summary: "Adds the specified elements to the specified HyperLogLog.", complexity: "O(1) to add every element.",
    keySpecs: [keyRange("RW insert", 1)],
    arguments: [{ name: "key", type: "key", key_spec_index: 0 }, { name: "element", type: "string", flags: ["optional", "multiple"] }],
    handler: pfaddCommand,
  },
  {
    name: "pfcount", arity: -2, flags: "readonly", acl: "hyperloglog", group: "hyperloglog", since: "2.8.9",
    summary: "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
    complexity: "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
    keySpecs: [{ ...keyRange("RW access", 1, -1), notes: "RW because it may change the internal representation of the key, and propagate to replicas" }],
    arguments: [{ name: "key", type: "key", key_spec_index: 0, flags: ["multiple"] }],
    handler: pfcountCommand,
  },
  {
    name: "pfmerge", arity: -2, flags: "write denyoom", acl: "hyperloglog", group: "hyperloglog", since: "2.8.9",
    summary: "Merge N different HyperLogLogs into a single one.", complexity: "O(N) to merge N HyperLogLogs, but with high constant times.",
    keySpecs: [keyRange("RW access insert", 1), keyRange("RO access", 2, -1)],
    arguments: [{ name: "destkey", type: "key", key_spec_index: 0 }, { name: "sourcekey", type: "key", key_spec_index: 1, flags: ["multiple"] }],
    handler: pfmergeCommand,
  },
  {
    name: "pfdebug", arity: 3, flags: "write denyoom admin", acl: "hyperloglog", group: "hyperloglog", since: "2.8.9",
    summary: "Internal commands for debugging HyperLogLog values", complexity: "N/A", docFlags: ["syscmd"],
    keySpecs: [keyRange("RW access", 2)],
    arguments: [{ name: "subcommand", type: "string" }, { name: "key", type: "key", key_spec_index: 0 }],
    handler: pfdebugCommand,
  },
  {
    name: "pfselftest", arity: 1, flags: "admin", acl: "hyperloglog", group: "hyperloglog", since: "2.8.9",
    summary: "An internal command for testing HyperLogLog values", complexity: "N/A", docFlags: ["syscmd"],
    handler: pfselftestCommand,
  },
];
