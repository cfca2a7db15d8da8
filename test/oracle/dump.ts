// Reading what DUMP returns from the real redis-server: the RDB type byte and value, then a
// 2-byte RDB version and an 8-byte CRC64. The encoding tests compare their bytes with
// what Redis keeps through it.

import { RespConn, type ServerProcess, startRedis } from "./harness.ts";

/**
 * A real redis-server whose DUMP payloads hold values as Redis keeps them: rdbcompression
 * off, plus the given directives (`["set-max-intset-entries", "5000"]`), and a connection.
 */
export async function startDumpServer(directives: string[]): Promise<{ redis: ServerProcess; conn: RespConn }> {
  const args = ["--rdbcompression", "no"];
  for (let i = 0; i < directives.length; i += 2) args.push(`--${directives[i]}`, directives[i + 1]!);
  const redis = await startRedis(args);
  return { redis, conn: await RespConn.connect(redis.port) };
}

/** Bytes after the value in a DUMP payload: the RDB version and the CRC64. */
export const DUMP_TRAILER_BYTES = 10;

/** The payload of a DUMP reply as bytes, or null for a missing key. */
export function dumpPayload(reply: string): Uint8Array | null {
  if (reply === "$-1\r\n") return null;
  const cr = reply.indexOf("\r\n");
  const len = Number(reply.slice(1, cr));
  return new Uint8Array(Buffer.from(reply.slice(cr + 2, cr + 2 + len), "latin1"));
}

/**
 * The RDB length at buf[at] (6-bit, 14-bit, 32-bit or 64-bit big-endian): [length, next
 * offset]; a special string encoding (0xC0 | enc: integers, LZF) reads as [-1 - enc, next].
 */
export function readRdbLength(buf: Uint8Array, at: number): [number, number] {
  const b = buf[at]!;
  switch (b >> 6) {
    case 0:
      return [b & 0x3f, at + 1];
    case 1:
      return [((b & 0x3f) << 8) | buf[at + 1]!, at + 2];
    case 3:
      return [-1 - (b & 0x3f), at + 1];
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b === 0x80) return [view.getUint32(at + 1), at + 5];
  if (b === 0x81) return [Number(view.getBigUint64(at + 1)), at + 9];
  throw new Error(`bad RDB length byte 0x${b.toString(16)}`);
}

/**
 * The string at the end of a DUMP payload of this type: the type byte, `prefix` RDB
 * lengths that must hold these values (a quicklist's node count and container), then a
 * plain length-prefixed string that the trailer follows. Throws when the framing differs.
 */
export function dumpedString(payload: Uint8Array, type: number, prefix: readonly number[] = []): Uint8Array {
  if (payload[0] !== type) throw new Error(`DUMP type ${payload[0]}, expected ${type}`);
  let at = 1;
  for (const want of prefix) {
    const [got, next] = readRdbLength(payload, at);
    if (got !== want) throw new Error(`DUMP length ${got} at ${at}, expected ${want}`);
    at = next;
  }
  const [len, start] = readRdbLength(payload, at);
  if (len < 0 || start + len !== payload.length - DUMP_TRAILER_BYTES) throw new Error("DUMP string does not end at the trailer (is rdbcompression off?)");
  return payload.slice(start, start + len);
}
