// Reply builder (Redis's addReply* family) over one growable buffer. All replies produced
// while handling one read event are appended here and leave in a single socket write.
// RESP3-only types degrade to their RESP2 shapes as Redis does, so handlers never branch
// on the protocol version.

import { formatDouble } from "../util/numbers.ts";
import { copyBytes } from "../util/bytes.ts";

const encoder = new TextEncoder();
/** Encode a constant reply once, at start-up. */
export const encode = (s: string): Uint8Array => encoder.encode(s);

export const OK = encode("+OK\r\n");
export const PONG = encode("+PONG\r\n");
export const QUEUED = encode("+QUEUED\r\n");
export const CRLF = encode("\r\n");
export const EMPTY_BULK = encode("$0\r\n\r\n");
export const EMPTY_ARRAY = encode("*0\r\n");
const NULL_BULK2 = encode("$-1\r\n");
const NULL_ARRAY2 = encode("*-1\r\n");
const NULL3 = encode("_\r\n");
const TRUE3 = encode("#t\r\n");
const FALSE3 = encode("#f\r\n");

/** Pre-encoded `:n\r\n` for small integers, the most common integer replies. */
const SMALL_INT_MAX = 1024;
const smallInts: Uint8Array[] = [];
for (let i = 0; i <= SMALL_INT_MAX; i++) smallInts.push(encode(`:${i}\r\n`));

const write = Buffer.prototype.write;

/** Characters in the decimal form of a safe integer, its sign included. */
function decimalLength(v: number): number {
  let n = v < 0 ? 2 : 1;
  for (let t = v < 0 ? -v : v; t >= 10; n++) t = t < 2147483648 ? (t / 10) | 0 : Math.floor(t / 10);
  return n;
}

/** Scratch for setDeferredLen: a header is a type byte, up to 20 digits and CRLF. */
const deferredHeader = new Uint8Array(24);

export class ReplyWriter {
  buf: Buffer;
  len = 0;
  /** Protocol of the client being answered: 2 or 3. */
  resp = 2;
  /** Told of every error reply (INFO errorstats, failed_calls). */
  onError: ((message: string) => void) | null = null;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Make room for n more bytes. */
  ensure(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    // At least 64 bytes, so that a writer created empty still doubles its way up.
    let size = Math.max(this.buf.length * 2, 64);
    while (size < need) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    bigger.set(this.buf.subarray(0, this.len));
    this.buf = bigger;
  }

  /** The bytes written so far (a view; copy it if it must outlive the next reset). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  reset(): void {
    this.len = 0;
  }

  addRaw(r: Uint8Array): void {
    const n = r.length;
    this.ensure(n);
    const b = this.buf;
    let o = this.len;
    if (n <= 16) {
      for (let k = 0; k < n; k++) b[o + k] = r[k]!;
    } else {
      copyBytes(r, 0, b, o, n);
    }
    this.len = o + n;
  }

  private byte(c: number): void {
    this.buf[this.len++] = c;
  }

  private crlf(): void {
    const b = this.buf;
    b[this.len] = 13;
    b[this.len + 1] = 10;
    this.len += 2;
  }

  /** Decimal digits of a safe integer, written in place without a string. */
  private digits(v: number): void {
    const b = this.buf;
    if (v < 0) {
      b[this.len++] = 45; // '-'
      v = -v;
    }
    if (v < 10) {
      b[this.len++] = 48 + v;
      return;
    }
    let n = 1;
    for (let t = v; t >= 10; n++) t = v < 2147483648 ? ((t / 10) | 0) : Math.floor(t / 10);
    let o = this.len + n;
    this.len = o;
    // Integer division by `| 0` is far cheaper than Math.floor, and exact below 2^31.
    while (v >= 2147483648) {
      const q = Math.floor(v / 10);
      b[--o] = 48 + (v - q * 10);
      v = q;
    }
    let small = v | 0;
    while (small >= 10) {
      const q = (small / 10) | 0;
      b[--o] = 48 + (small - q * 10);
      small = q;
    }
    b[--o] = 48 + small;
  }

  /** A type byte, a length and CRLF: `*3\r\n`, `$5\r\n`. */
  private header(type: number, n: number): void {
    this.ensure(24);
    this.byte(type);
    this.digits(n);
    this.crlf();
  }

  addInteger(v: number): void {
    if (v >= 0 && v <= SMALL_INT_MAX && v === Math.floor(v)) return this.addRaw(smallInts[v]!);
    // Beyond 2^53 the digit loop's float division loses digits; such doubles are integers.
    if (v > Number.MAX_SAFE_INTEGER || v < -Number.MAX_SAFE_INTEGER) return this.addBigInt(BigInt(v));
    this.header(58 /* ':' */, v);
  }

  /** An integer beyond 2^53 (int64 values held as bigint). */
  addBigInt(v: bigint): void {
    this.addAscii(":" + v.toString() + "\r\n");
  }

  /** A status reply: `+text`. The text must not contain CR or LF. */
  addSimple(text: string): void {
    this.addAscii("+" + text + "\r\n");
  }

  /** An error reply; `message` starts with its code ("ERR ...", "WRONGTYPE ..."). */
  addError(message: string): void {
    // Redis replaces newlines so that an error can never break the protocol framing.
    const safe = message.includes("\r") || message.includes("\n") ? message.replace(/[\r\n]/g, " ") : message;
    if (this.onError !== null) this.onError(safe);
    this.ensure(safe.length + 3);
    this.byte(45); // '-'
    this.len += write.call(this.buf, safe, this.len, "latin1");
    this.crlf();
  }

  /** A HELP reply: one status line per line of text (Redis's addReplyHelp). */
  addHelp(lines: readonly string[]): void {
    this.addArrayLen(lines.length);
    for (const line of lines) this.addSimple(line);
  }

  /** A pre-encoded error (`-CODE text\r\n`, see errors.ts). */
  addErrorBytes(encoded: Uint8Array): void {
    if (this.onError !== null) this.onError(Buffer.prototype.latin1Slice.call(encoded, 1, encoded.length - 2));
    this.addRaw(encoded);
  }

  /** Text known to be one byte per char (protocol fragments, numbers, ASCII names). */
  private addAscii(s: string): void {
    this.ensure(s.length);
    this.latin1(s);
  }

  /** Write a latin1 string (room ensured): short ones, like most keys, by a char loop. */
  private latin1(s: string): void {
    const n = s.length;
    if (n > 64) {
      this.len += write.call(this.buf, s, this.len, "latin1");
      return;
    }
    const b = this.buf;
    const o = this.len;
    for (let k = 0; k < n; k++) b[o + k] = s.charCodeAt(k);
    this.len = o + n;
  }

  addBulkView(src: Uint8Array, start: number, n: number): void {
    this.header(36 /* '$' */, n);
    this.ensure(n + 2);
    if (n <= 16) {
      const b = this.buf;
      const o = this.len;
      for (let k = 0; k < n; k++) b[o + k] = src[start + k]!;
    } else {
      copyBytes(src, start, this.buf, this.len, n);
    }
    this.len += n;
    this.crlf();
  }

  addBulk(value: Uint8Array): void {
    this.addBulkView(value, 0, value.length);
  }

  /** A bulk string from a latin1 string (stored keys: one char per byte). */
  addBulkLatin1(s: string): void {
    this.header(36, s.length);
    this.ensure(s.length + 2);
    this.latin1(s);
    this.crlf();
  }

  /** A bulk string from text that may hold any Unicode (INFO, help lines). */
  addBulkText(s: string): void {
    const n = Buffer.byteLength(s, "utf8");
    this.header(36, n);
    this.ensure(n + 2);
    this.len += write.call(this.buf, s, this.len, "utf8");
    this.crlf();
  }

  /** A bulk string holding the decimal form of an integer (GET of an int-encoded value). */
  addBulkInteger(v: number | bigint): void {
    if (typeof v === "bigint") return this.addBulkLatin1(v.toString());
    if (v > Number.MAX_SAFE_INTEGER || v < -Number.MAX_SAFE_INTEGER) return this.addBulkLatin1(BigInt(v).toString());
    // Counting the digits first costs less than writing them and moving them behind the header.
    this.header(36 /* '$' */, decimalLength(v));
    this.ensure(24);
    this.digits(v);
    this.crlf();
  }

  addNull(): void {
    this.addRaw(this.resp === 3 ? NULL3 : NULL_BULK2);
  }

  /** The null reply Redis uses where an array is expected (BLPOP timeout, EXEC abort). */
  addNullArray(): void {
    this.addRaw(this.resp === 3 ? NULL3 : NULL_ARRAY2);
  }

  addArrayLen(n: number): void {
    this.header(42 /* '*' */, n);
  }

  /** n key/value pairs follow: a RESP3 map, or a flat array of 2n items in RESP2. */
  addMapLen(n: number): void {
    if (this.resp === 3) this.header(37 /* '%' */, n);
    else this.header(42, n * 2);
  }

  addSetLen(n: number): void {
    this.header(this.resp === 3 ? 126 /* '~' */ : 42, n);
  }

  addPushLen(n: number): void {
    this.header(this.resp === 3 ? 62 /* '>' */ : 42, n);
  }

  /** n attribute pairs (RESP3 only; Redis sends nothing for RESP2). */
  addAttributeLen(n: number): void {
    if (this.resp === 3) this.header(124 /* '|' */, n);
  }

  addBool(v: boolean): void {
    if (this.resp === 3) this.addRaw(v ? TRUE3 : FALSE3);
    else this.addRaw(smallInts[v ? 1 : 0]!);
  }

  /** A double: `,1.5` in RESP3, a bulk string in RESP2, formatted as Redis does. */
  addDouble(v: number): void {
    const s = formatDouble(v);
    if (this.resp === 3) this.addAscii("," + s + "\r\n");
    else this.addBulkLatin1(s);
  }

  /** A big number: `(123` in RESP3, a bulk string in RESP2. */
  addBigNumber(digits: string): void {
    if (this.resp === 3) this.addAscii("(" + digits + "\r\n");
    else this.addBulkLatin1(digits);
  }

  /** Verbatim text (`=len\r\ntxt:...`) in RESP3, a plain bulk string in RESP2. */
  addVerbatim(text: string, format = "txt"): void {
    if (this.resp !== 3) return this.addBulkText(text);
    const n = Buffer.byteLength(text, "utf8");
    this.header(61 /* '=' */, n + 4);
    this.addAscii(format + ":");
    this.ensure(n + 2);
    this.len += write.call(this.buf, text, this.len, "utf8");
    this.crlf();
  }

  /** Reserve a spot for an aggregate length that is known only after its items. */
  deferLen(): number {
    return this.len;
  }

  /** Insert the header of a deferred aggregate at `at`, shifting the items behind it. */
  setDeferredLen(at: number, type: "array" | "map" | "set", n: number): void {
    const tail = this.len - at;
    const mark = this.len;
    if (type === "map") this.addMapLen(n);
    else if (type === "set") this.addSetLen(n);
    else this.addArrayLen(n);
    const headerLen = this.len - mark;
    const b = this.buf;
    // Park the header in a scratch array: moving the items overwrites where it was written.
    for (let k = 0; k < headerLen; k++) deferredHeader[k] = b[mark + k]!;
    b.copyWithin(at + headerLen, at, at + tail);
    for (let k = 0; k < headerLen; k++) b[at + k] = deferredHeader[k]!;
  }
}
