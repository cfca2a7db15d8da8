// DEBUG DIGEST and DIGEST-VALUE (Redis's debug.c computeDatasetDigest): a SHA1-based digest
// of the data set that is the same for the same data whatever order keys were written in,
// and equal to real Redis's for the same data, so tests can compare whole data sets.

import { createHash } from "node:crypto";
import type { Db } from "./db.ts";
import { ObjType, metaType } from "./object.ts";
import { stringBytes } from "./string.ts";

const EXPIRE_MARK = Buffer.from("!!expire!!", "latin1");

function sha1(data: Uint8Array): Buffer {
  return createHash("sha1").update(data).digest();
}

export const DIGEST_LEN = 20;

/**
 * How each collection type feeds its elements into a value's digest (Redis's
 * xorObjectDigest cases), registered by the type's module so this one knows none of them.
 */
export type ValueDigester = (digest: Uint8Array, db: Db, id: number) => void;
const digesters: (ValueDigester | undefined)[] = [];

export function registerDigester(type: ObjType, digester: ValueDigester): void {
  digesters[type] = digester;
}

/** digest ^= SHA1(data) (Redis's xorDigest). */
export function xorDigest(digest: Uint8Array, data: Uint8Array): void {
  const h = sha1(data);
  for (let i = 0; i < DIGEST_LEN; i++) digest[i]! ^= h[i]!;
}

/** digest = SHA1(digest ^ SHA1(data)) (Redis's mixDigest): order-dependent mixing. */
export function mixDigest(digest: Uint8Array, data: Uint8Array): void {
  xorDigest(digest, data);
  digest.set(sha1(digest));
}

/** A 32-bit integer in network byte order, as Redis feeds htonl(x) to the digest. */
function u32be(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, false);
  return b;
}

/** Mix the value of `id` (and whether it has a TTL) into `digest` (Redis's xorObjectDigest). */
function mixObject(digest: Uint8Array, db: Db, id: number): void {
  const type = metaType(db.table.getMeta(id));
  mixDigest(digest, u32be(type));
  switch (type) {
    case ObjType.String:
      mixDigest(digest, stringBytes(db, id));
      break;
    default: {
      const digester = digesters[type];
      if (digester === undefined) throw new Error(`DEBUG DIGEST: type ${type} has no digester`);
      digester(digest, db, id);
    }
  }
  if (db.getExpire(id) !== -1) xorDigest(digest, EXPIRE_MARK);
}

/** The digest of every database, as 40 hex chars; all zeros when empty. */
export function datasetDigest(dbs: Db[]): string {
  const final = new Uint8Array(DIGEST_LEN);
  for (const db of dbs) {
    const table = db.table;
    if (table.size === 0) continue;
    mixDigest(final, u32be(db.id));
    for (let id = 0; id < table.idLimit; id++) {
      if (!table.isLive(id)) continue;
      const digest = new Uint8Array(DIGEST_LEN);
      const keyOffset = table.keyOffset(id);
      mixDigest(digest, table.keyPage(id).subarray(keyOffset, keyOffset + table.keyLength(id)));
      mixObject(digest, db, id);
      xorDigest(final, digest);
    }
  }
  return Buffer.from(final).toString("hex");
}

/** The digest of one value (DEBUG DIGEST-VALUE); all zeros for a missing key (NO_KEY). */
export function valueDigest(db: Db, id: number): string {
  const digest = new Uint8Array(DIGEST_LEN);
  if (id >= 0) mixObject(digest, db, id);
  return Buffer.from(digest).toString("hex");
}
