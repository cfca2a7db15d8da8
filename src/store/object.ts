// Typed values (Redis's robj): a type, an encoding and the payload. Type and encoding
// numbers are Redis's own (server.h), so OBJECT ENCODING, TYPE and the RDB writer can use
// them directly.

export const enum ObjType {
  String = 0,
  List = 1,
  Set = 2,
  ZSet = 3,
  Hash = 4,
  Stream = 6,
}

export const enum Enc {
  Raw = 0,
  Int = 1,
  HashTable = 2,
  IntSet = 6,
  SkipList = 7,
  EmbStr = 8,
  QuickList = 9,
  Stream = 10,
  ListPack = 11,
}

/** Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT: strings up to this many bytes are embstr. */
export const EMBSTR_SIZE_LIMIT = 44;

const ENCODING_NAMES: Record<number, string> = {
  [Enc.Raw]: "raw",
  [Enc.Int]: "int",
  [Enc.HashTable]: "hashtable",
  [Enc.IntSet]: "intset",
  [Enc.SkipList]: "skiplist",
  [Enc.EmbStr]: "embstr",
  [Enc.QuickList]: "quicklist",
  [Enc.Stream]: "stream",
  [Enc.ListPack]: "listpack",
};

const TYPE_NAMES: Record<number, string> = {
  [ObjType.String]: "string",
  [ObjType.List]: "list",
  [ObjType.Set]: "set",
  [ObjType.ZSet]: "zset",
  [ObjType.Hash]: "hash",
  [ObjType.Stream]: "stream",
};

export const encodingName = (enc: number): string => ENCODING_NAMES[enc] ?? "unknown";
export const typeName = (type: number): string => TYPE_NAMES[type] ?? "none";

/**
 * A value in the keyspace. For strings `ptr` is a Uint8Array (raw, embstr) or, for the int
 * encoding, a number when it is a safe integer and a bigint for the rest of the int64 range.
 */
export class RObj {
  type: ObjType;
  enc: Enc;
  ptr: any;
  /** LRU clock (seconds resolution, 24 bits) or LFU data, as Redis keeps them. */
  lru: number;

  constructor(type: ObjType, enc: Enc, ptr: any, lru: number) {
    this.type = type;
    this.enc = enc;
    this.ptr = ptr;
    this.lru = lru;
  }
}

/** Redis's LRU_CLOCK: seconds, wrapping at 24 bits. */
export function lruClock(nowMs: number): number {
  return Math.floor(nowMs / 1000) & 0xffffff;
}
