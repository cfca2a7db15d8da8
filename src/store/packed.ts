// Packed values: the byte-array encodings (listpack, intset) of collections, and where an
// entry keeps them. Like Redis, a small collection is one run of bytes; here a run of at
// most INLINE_MAX bytes lives inline in the key's KeyTable record (no JS object at all, so
// 100,000 small hashes cost the garbage collector nothing), and a longer one is an Object
// value holding a Uint8Array with room to grow, edited in place.
//
// The formats carry their own length in their header (listpack: total bytes; intset:
// width and count), so a held Uint8Array may be longer than the value: the rest is room.
//
// Reading: `locatePacked(db, id)` sets `packedAt.buf` and `packedAt.base` to where the
// value's bytes start, valid until this entry's value is set again.
// Editing: `editPacked(db, id)` returns a standalone buffer (value at offset 0) to edit;
// the encodings' editing functions may return a bigger one; `storePacked` then makes the
// result the entry's value. For an inline value the buffer is one scratch buffer shared by
// every caller, so store an edit before starting another.

import { INLINE_MAX, type KeyTable, ValueKind } from "./keytable.ts";
import type { Db } from "./db.ts";
import { type Enc, type ObjType, packMeta } from "./object.ts";
import { copyBytes } from "../util/bytes.ts";

const EMPTY: Uint8Array = new Uint8Array(0);

/** Where locatePacked found the bytes: the value is buf[base ..]. */
export const packedAt = { buf: EMPTY, base: 0 };

/**
 * Where inline values are edited. Edits that lengthen a value past its room get a bigger
 * buffer from ensureRoom, so this one never grows.
 */
const scratch = new Uint8Array(2 * INLINE_MAX);

/** Points `packedAt` at the packed value of `id`. */
export function locatePacked(db: Db, id: number): void {
  locatePackedIn(db.table, id);
}

/** locatePacked in a table that may belong to no database (a background save's). */
export function locatePackedIn(table: KeyTable, id: number): void {
  if (table.valueKind(id) === ValueKind.Bytes) {
    packedAt.buf = table.valuePage(id);
    packedAt.base = table.valueOffset(id);
  } else {
    packedAt.buf = table.getObject(id) as Uint8Array;
    packedAt.base = 0;
  }
}

/**
 * A buffer holding the packed value of `id` at offset 0 for editing in place: the held
 * array itself for a large value, the shared scratch buffer (a copy) for an inline one.
 */
export function editPacked(db: Db, id: number): Uint8Array {
  const table = db.table;
  if (table.valueKind(id) !== ValueKind.Bytes) return table.getObject(id) as Uint8Array;
  copyBytes(table.valuePage(id), table.valueOffset(id), scratch, 0, table.valueLength(id));
  return scratch;
}

/**
 * Makes the first `sizeBytes` bytes of `buf` the value of `id`, of this type and
 * encoding, used now. Small values go inline (copied); a larger one keeps `buf` itself
 * unless it is the shared scratch buffer, which is copied with room to grow.
 */
export function storePacked(db: Db, id: number, type: ObjType, enc: Enc, buf: Uint8Array, sizeBytes: number): void {
  const table = db.table;
  if (sizeBytes <= INLINE_MAX) table.setBytes(id, buf, 0, sizeBytes);
  else if (buf === scratch) table.setObject(id, growableCopy(buf, sizeBytes));
  else table.setObject(id, buf);
  table.setMeta(id, packMeta(type, enc, db.clock.lru));
}

/** A fresh buffer holding buf's first `sizeBytes` bytes with a quarter more room. */
function growableCopy(buf: Uint8Array, sizeBytes: number): Uint8Array {
  const out = new Uint8Array(sizeBytes + (sizeBytes >> 2) + 16);
  copyBytes(buf, 0, out, 0, sizeBytes);
  return out;
}
