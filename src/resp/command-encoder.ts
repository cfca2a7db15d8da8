// Propagated commands encoded as RESP arrays of bulk strings, the form both the AOF and the
// replication stream carry, with a SELECT before a command whose database differs from the
// one the stream last selected (Redis's feedAppendOnlyFile and replicationFeedSlaves).

import type { Argv } from "./parser.ts";
import type { PropArg } from "../server/propagate.ts";

const CR = 0x0d;
const LF = 0x0a;
const ARRAY = 0x2a; // '*'
const BULK = 0x24; // '$'

/**
 * Commands outside any database (a replica's handshake, MIGRATE's requests, a replica's
 * ACK) as one RESP buffer of their own.
 */
export function encodeCommands(commands: readonly (readonly PropArg[])[]): Uint8Array {
  const encoder = new CommandEncoder(256);
  for (const args of commands) encoder.argsAnyDb(args);
  return encoder.bytes.slice(0, encoder.length);
}

/** A growable buffer of encoded commands; the owner sends `bytes[0, length)` and resets it. */
export class CommandEncoder {
  bytes: Uint8Array;
  length = 0;
  /** The database the stream last selected, -1 when the next command must select one. */
  selectedDb = -1;

  constructor(initialBytes: number) {
    this.bytes = new Uint8Array(initialBytes);
  }

  /** The command being executed, as its client sent it, in database dbId. */
  argv(dbId: number, argv: Argv): void {
    if (dbId !== this.selectedDb) this.select(dbId);
    const count = argv.count;
    this.header(ARRAY, count);
    for (let i = 0; i < count; i++) this.bulk(argv.buf, argv.start[i]!, argv.len[i]!);
  }

  /** A command given as separate arguments, in database dbId. */
  args(dbId: number, args: readonly PropArg[]): void {
    if (dbId !== this.selectedDb) this.select(dbId);
    this.header(ARRAY, args.length);
    for (const arg of args) {
      if (typeof arg === "string") this.bulkLatin1(arg);
      else this.bulk(arg, 0, arg.length);
    }
  }

  /** A command outside any database (the master's PING): no SELECT comes before it. */
  argsAnyDb(args: readonly PropArg[]): void {
    this.args(this.selectedDb, args);
  }

  /** Raw latin1 text, one byte per char (the AOF's `#TS:` annotations). */
  latin1(s: string): void {
    this.reserve(s.length);
    const out = this.bytes;
    let at = this.length;
    for (let i = 0; i < s.length; i++) out[at++] = s.charCodeAt(i);
    this.length = at;
  }

  reset(): void {
    this.length = 0;
  }

  /** Makes room for n more bytes. */
  reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    bigger.set(this.bytes.subarray(0, this.length));
    this.bytes = bigger;
  }

  private select(dbId: number): void {
    this.selectedDb = dbId;
    this.header(ARRAY, 2);
    this.bulkLatin1("SELECT");
    this.bulkLatin1(String(dbId));
  }

  private header(prefix: number, n: number): void {
    const digits = String(n);
    this.reserve(digits.length + 3);
    const out = this.bytes;
    let at = this.length;
    out[at++] = prefix;
    for (let i = 0; i < digits.length; i++) out[at++] = digits.charCodeAt(i);
    out[at++] = CR;
    out[at++] = LF;
    this.length = at;
  }

  private bulk(buf: Uint8Array, start: number, len: number): void {
    this.header(BULK, len);
    this.reserve(len + 2);
    this.bytes.set(buf.subarray(start, start + len), this.length);
    this.length += len;
    this.bytes[this.length++] = CR;
    this.bytes[this.length++] = LF;
  }

  private bulkLatin1(s: string): void {
    this.header(BULK, s.length);
    this.latin1(s);
    this.reserve(2);
    this.bytes[this.length++] = CR;
    this.bytes[this.length++] = LF;
  }
}
