// DEBUG DIGEST and DIGEST-VALUE (Redis's debug.c computeDatasetDigest): a SHA1-based digest
// of the data set that is the same for the same data whatever order keys were written in,
// and equal to real Redis's for the same data, so tests can compare whole data sets.

import { createHash } from "node:crypto";
import type { Db } from "./db.ts";
import { ObjType, type RObj } from "./object.ts";
import { stringBytes } from "./string.ts";

const DIGEST_LEN = 20;
const EXPIRE_MARK = Buffer.from("!!expire!!", "latin1");

function sha1(data: Uint8Array): Buffer {
  return createHash("sha1").update(data).digest();
}

/** digest ^= SHA1(data) (Redis's xorDigest). */
function xorDigest(digest: Uint8Array, data: Uint8Array): void {
  const h = sha1(data);
  for (let i = 0; i < DIGEST_LEN; i++) digest[i]! ^= h[i]!;
}

/** digest = SHA1(digest ^ SHA1(data)) (Redis's mixDigest): order-dependent mixing. */
function mixDigest(digest: Uint8Array, data: Uint8Array): void {
  xorDigest(digest, data);
  digest.set(sha1(digest));
}

/** A 32-bit integer in network byte order, as Redis feeds htonl(x) to the digest. */
function u32be(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, false);
  return b;
}

/** Mix one value (and whether its key has a TTL) into `digest` (Redis's xorObjectDigest). */
function mixObject(digest: Uint8Array, o: RObj, hasExpire: boolean): void {
  mixDigest(digest, u32be(o.type));
  switch (o.type) {
    case ObjType.String:
      mixDigest(digest, stringBytes(o));
      break;
    default:
      throw new Error(`DEBUG DIGEST: type ${o.type} is not supported yet`);
  }
  if (hasExpire) xorDigest(digest, EXPIRE_MARK);
}

/** The digest of every database, as 40 hex chars; all zeros when empty. */
export function datasetDigest(dbs: Db[]): string {
  const final = new Uint8Array(DIGEST_LEN);
  for (const db of dbs) {
    if (db.size === 0) continue;
    mixDigest(final, u32be(db.id));
    for (const [key, o] of db.dict) {
      const digest = new Uint8Array(DIGEST_LEN);
      mixDigest(digest, Buffer.from(key, "latin1"));
      mixObject(digest, o, db.expires.has(key));
      xorDigest(final, digest);
    }
  }
  return Buffer.from(final).toString("hex");
}

/** The digest of one value (DEBUG DIGEST-VALUE); all zeros for a missing key. */
export function valueDigest(db: Db, key: string, o: RObj | undefined): string {
  const digest = new Uint8Array(DIGEST_LEN);
  if (o !== undefined) mixObject(digest, o, db.expires.has(key));
  return Buffer.from(digest).toString("hex");
}
