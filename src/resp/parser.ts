// Resumable, zero-copy RESP request parser (Redis's processMultibulkBuffer and
// processInlineBuffer). One command is parsed at a time into an Argv of offsets into the
// buffer it arrived in; the caller executes it, then asks for the next one. When a command
// is incomplete the parser reports how many bytes it needs at least, so that a large bulk
// arriving in many reads is not re-scanned on every read.

/** Redis's PROTO_INLINE_MAX_SIZE: longest inline request or `*N`/`$N` header line. */
export const PROTO_INLINE_MAX_SIZE = 64 * 1024;
/** Redis's INT_MAX bound on a multibulk count. */
const MULTIBULK_MAX = 2147483647;

const CR = 13; // '\r'
const LF = 10; // '\n'
const STAR = 42; // '*'
const DOLLAR = 36; // '$'

/**
 * What a client that has not authenticated may send (networking.c has them built in, no
 * directive): at most this many arguments, each at most this many bytes.
 */
const UNAUTHENTICATED_MULTIBULK_MAX = 10;
const UNAUTHENTICATED_BULK_MAX = 16384;

const TOO_BIG_MBULK = "Protocol error: too big mbulk count string";
const TOO_BIG_BULK = "Protocol error: too big bulk count string";

/** The arguments of one command: views into `buf`, valid until the next parse. */
/** A command's arguments: buf[start[i] .. start[i] + len[i]) for i below count. */
export interface ArgvView {
  readonly buf: Uint8Array;
  readonly start: Int32Array;
  readonly len: Int32Array;
  readonly count: number;
}

export class Argv {
  buf: Uint8Array = new Uint8Array(0);
  start: Int32Array = new Int32Array(16);
  len: Int32Array = new Int32Array(16);
  count = 0;

  push(start: number, len: number): void {
    if (this.count === this.start.length) this.grow();
    this.start[this.count] = start;
    this.len[this.count] = len;
    this.count++;
  }

  /** Doubles the room for arguments (the parser fills start and len directly). */
  grow(): void {
    const start = new Int32Array(this.start.length * 2);
    const len = new Int32Array(this.len.length * 2);
    start.set(this.start);
    len.set(this.len);
    this.start = start;
    this.len = len;
  }

  /**
   * The current command's arguments, copied, to put back with `use` after other commands
   * ran through this Argv (EXEC's queued commands, DEBUG LOADAOF's loader).
   */
  save(): ArgvView {
    return { buf: this.buf, start: this.start.slice(0, this.count), len: this.len.slice(0, this.count), count: this.count };
  }

  /** Point at another command's arguments: a saved one, or one MULTI queued. */
  use(view: ArgvView): void {
    this.buf = view.buf;
    this.start = view.start;
    this.len = view.len;
    this.count = view.count;
  }

  /** Argument i as a latin1 string: one char per byte, the form keys are stored in. */
  str(i: number): string {
    return latin1(this.buf, this.start[i]!, this.len[i]!);
  }

  /** Argument i as a fresh copy (for values that are stored). */
  copy(i: number): Uint8Array {
    const s = this.start[i]!;
    const n = this.len[i]!;
    // Not buf.slice: socket chunks are Buffers, whose slice() returns a view of the chunk.
    const out = new Uint8Array(n);
    out.set(this.buf.subarray(s, s + n));
    return out;
  }

  /** Argument i as a view (valid only while the command runs). */
  view(i: number): Uint8Array {
    const s = this.start[i]!;
    return this.buf.subarray(s, s + this.len[i]!);
  }

  /** Case-insensitive comparison of argument i with a lower-case ASCII word. */
  is(i: number, word: string): boolean {
    const n = this.len[i]!;
    if (n !== word.length) return false;
    const b = this.buf;
    const s = this.start[i]!;
    for (let k = 0; k < n; k++) {
      if ((b[s + k]! | 0x20) !== word.charCodeAt(k)) return false;
    }
    return true;
  }

  /**
   * Whether argument i, read as a C string (up to its first NUL), is `word` ignoring case:
   * how Redis's strcasecmp sees option names. `word` is lower case.
   */
  isOption(i: number, word: string): boolean {
    const buf = this.buf;
    const start = this.start[i]!;
    const len = this.len[i]!;
    if (len < word.length || (len > word.length && buf[start + word.length] !== 0)) return false;
    for (let k = 0; k < word.length; k++) {
      let ch = buf[start + k]!;
      if (ch >= 65 && ch <= 90) ch |= 0x20;
      if (ch !== word.charCodeAt(k)) return false;
    }
    return true;
  }

  /** Argument i lower-cased as a string (option names, subcommands). */
  lower(i: number): string {
    return this.str(i).toLowerCase();
  }
}

const latin1Decoder = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;

/** Bytes as a latin1 string without an intermediate copy. */
export function latin1(buf: Uint8Array, start: number, len: number): string {
  return latin1Decoder.call(buf, start, start + len);
}

/** Outcome codes of parseCommand besides "the offset after the command". */
export const NEED_MORE = -1;
export const PROTOCOL_ERROR = -2;

/** Limits and results the parser shares with its connection. */
export class ParseState {
  /** Absolute offset the buffer must reach before parsing again is worthwhile. */
  wantEnd = 0;
  /** Redis's reply text when parseCommand returns PROTOCOL_ERROR. */
  error = "";
  /** `proto-max-bulk-len`. */
  maxBulkLen = 512 * 1024 * 1024;
  /** Whether the client still has to AUTH (Redis caps request sizes for such clients). */
  authRequired = false;
}

/**
 * Parse one command from buf[pos..end) into argv. Returns the offset just after it (argv
 * may be empty: blank inline lines and `*0`/`*-1` are consumed without a command),
 * NEED_MORE (state.wantEnd says how far the buffer must grow), or PROTOCOL_ERROR
 * (state.error holds the reply).
 */
export function parseCommand(buf: Uint8Array, pos: number, end: number, argv: Argv, state: ParseState): number {
  argv.count = 0;
  argv.buf = buf;
  if (buf[pos] === STAR) return parseMultibulk(buf, pos, end, argv, state);
  return parseInline(buf, pos, end, argv, state);
}

/** Offset of the first '\r' in buf[from..end), or -1. */
function findCR(buf: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === CR) return i;
  return -1;
}

/**
 * Whether buf[from..to) holds a NUL byte. Redis finds line ends with strchr, which stops at
 * a NUL: a line with a NUL before its terminator is, to Redis, a line not terminated yet.
 * Only lines that failed to parse are checked, so valid requests pay nothing for it.
 */
function hasNul(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] === 0) return true;
  return false;
}

/** An unterminated header line: wait for more bytes, or fail once it is over the limit. */
function needLine(state: ParseState, lineStart: number, end: number, tooBig: string): number {
  if (end - lineStart > PROTO_INLINE_MAX_SIZE) return fail(state, tooBig);
  state.wantEnd = end + 1;
  return NEED_MORE;
}

/** Redis's string2ll over a header: digits with an optional '-', no leading zeros. NaN when invalid. */
function headerInt(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let neg = false;
  if (i >= end) return NaN;
  if (buf[i] === 45 /* '-' */) {
    neg = true;
    i++;
    if (i >= end) return NaN;
  }
  if (buf[i] === 48 /* '0' */) return end - i === 1 && !neg ? 0 : NaN;
  let v = 0;
  for (; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
    if (v > 9223372036854775807) return NaN;
  }
  return neg ? -v : v;
}

function parseMultibulk(buf: Uint8Array, cmdStart: number, end: number, argv: Argv, state: ParseState): number {
  // The common header in one pass: `*`, 1 to 9 digits without a leading zero, CR LF.
  let count = 0;
  let pos = cmdStart + 1;
  for (; pos < end; pos++) {
    const d = buf[pos]! - 48;
    if (d < 0 || d > 9) break;
    count = count * 10 + d;
  }
  const digits = pos - cmdStart - 1;
  if (digits !== 0 && digits <= 9 && pos + 1 < end && buf[pos] === CR && (digits === 1 || buf[cmdStart + 1] !== 48)) {
    pos += 2;
  } else {
    const cr = findCR(buf, cmdStart, end);
    if (cr < 0) return needLine(state, cmdStart, end, TOO_BIG_MBULK);
    if (cr + 1 >= end) {
      state.wantEnd = cr + 2;
      return NEED_MORE;
    }
    count = headerInt(buf, cmdStart + 1, cr);
    if (!(count <= MULTIBULK_MAX)) {
      if (hasNul(buf, cmdStart, cr)) return needLine(state, cmdStart, end, TOO_BIG_MBULK);
      return fail(state, "Protocol error: invalid multibulk length");
    }
    pos = cr + 2;
  }
  if (count > UNAUTHENTICATED_MULTIBULK_MAX && state.authRequired) return fail(state, "Protocol error: unauthenticated multibulk length");
  const maxLen = state.authRequired ? Math.min(UNAUTHENTICATED_BULK_MAX, state.maxBulkLen) : state.maxBulkLen;
  let starts = argv.start;
  let lens = argv.len;
  let k = 0;
  while (k < count) {
    if (k === starts.length) {
      argv.count = k;
      argv.grow();
      starts = argv.start;
      lens = argv.len;
    }
    // The common argument in one pass: `$`, 1 to 15 digits without a leading zero, CR LF,
    // and the whole payload with its CR LF in the buffer, within the limits.
    if (buf[pos] === DOLLAR) {
      let i = pos + 1;
      let len = 0;
      for (; i < end; i++) {
        const d = buf[i]! - 48;
        if (d < 0 || d > 9) break;
        len = len * 10 + d;
      }
      const n = i - pos - 1;
      const next = i + 4 + len;
      if (n !== 0 && n <= 15 && next <= end && buf[i] === CR && len <= maxLen && (n === 1 || buf[pos + 1] !== 48)) {
        starts[k] = i + 2;
        lens[k] = len;
        k++;
        pos = next;
        continue;
      }
    }
    // Anything else is parsed, and reported, from the same position by the general path.
    argv.count = k;
    pos = parseBulk(buf, pos, end, argv, state);
    if (pos < 0) return pos;
    k = argv.count;
    starts = argv.start;
    lens = argv.len;
  }
  argv.count = k;
  return pos;
}

/** One bulk argument, any form: pushes it and returns the position after it, or NEED_MORE or PROTOCOL_ERROR. */
function parseBulk(buf: Uint8Array, pos: number, end: number, argv: Argv, state: ParseState): number {
  if (pos >= end) {
    state.wantEnd = pos + 1;
    return NEED_MORE;
  }
  const hcr = findCR(buf, pos, end);
  if (hcr < 0) return needLine(state, pos, end, TOO_BIG_BULK);
  if (hcr + 1 >= end) {
    state.wantEnd = hcr + 2;
    return NEED_MORE;
  }
  if (buf[pos] !== DOLLAR) {
    if (hasNul(buf, pos, hcr)) return needLine(state, pos, end, TOO_BIG_BULK);
    return fail(state, `Protocol error: expected '$', got '${String.fromCharCode(buf[pos]!)}'`);
  }
  const len = headerInt(buf, pos + 1, hcr);
  if (!(len >= 0) || len > state.maxBulkLen) {
    if (hasNul(buf, pos, hcr)) return needLine(state, pos, end, TOO_BIG_BULK);
    return fail(state, "Protocol error: invalid bulk length");
  }
  if (len > UNAUTHENTICATED_BULK_MAX && state.authRequired) return fail(state, "Protocol error: unauthenticated bulk length");
  const dataStart = hcr + 2;
  // Like Redis, the two bytes after the payload are skipped without being checked.
  const next = dataStart + len + 2;
  if (next > end) {
    state.wantEnd = next;
    return NEED_MORE;
  }
  argv.push(dataStart, len);
  return next;
}

function fail(state: ParseState, message: string): number {
  state.error = message;
  return PROTOCOL_ERROR;
}

function parseInline(buf: Uint8Array, start: number, end: number, argv: Argv, state: ParseState): number {
  const lf = buf.indexOf(LF, start);
  // Inline requests are rare (telnet, scripts), so every line is checked for a NUL.
  if (lf < 0 || lf >= end || hasNul(buf, start, lf)) {
    return needLine(state, start, end, "Protocol error: too big inline request");
  }
  let lineEnd = lf;
  if (lineEnd > start && buf[lineEnd - 1] === CR) lineEnd--;
  if (!splitArgs(buf, start, lineEnd, argv)) return fail(state, "Protocol error: unbalanced quotes in request");
  return lf + 1;
}

/** Redis's isspace() set, used by sdssplitargs between arguments and after a closing quote. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * The bytes that end an unquoted argument in sdssplitargs: a narrower set than isspace(),
 * so '\v' and '\f' stay inside an argument (`ECHO a\vb` echoes three bytes).
 */
function endsBareArg(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/**
 * Redis's sdssplitargs over buf[start..end) into a fresh buffer (quoted arguments are
 * unescaped, so they cannot stay views of the input). Returns false on unbalanced quotes.
 */
function splitArgs(buf: Uint8Array, start: number, end: number, argv: Argv): boolean {
  const out = new Uint8Array(end - start);
  let o = 0;
  let p = start;
  for (;;) {
    while (p < end && isSpace(buf[p]!)) p++;
    if (p >= end) break;
    const argStart = o;
    let inDouble = false;
    let inSingle = false;
    for (;;) {
      if (inDouble) {
        if (p >= end) return false;
        const c = buf[p]!;
        if (c === 92 /* '\\' */ && p + 3 < end && buf[p + 1] === 120 /* 'x' */ && hexValue(buf[p + 2]!) >= 0 && hexValue(buf[p + 3]!) >= 0) {
          out[o++] = hexValue(buf[p + 2]!) * 16 + hexValue(buf[p + 3]!);
          p += 3;
        } else if (c === 92 && p + 1 < end) {
          p++;
          const e = buf[p]!;
          out[o++] = e === 110 ? 10 : e === 114 ? 13 : e === 116 ? 9 : e === 98 ? 8 : e === 97 ? 7 : e;
        } else if (c === 34 /* '"' */) {
          // The closing quote must be followed by a space or the end of the line.
          if (p + 1 < end && !isSpace(buf[p + 1]!)) return false;
          inDouble = false;
          p++;
          break;
        } else {
          out[o++] = c;
        }
      } else if (inSingle) {
        if (p >= end) return false;
        const c = buf[p]!;
        if (c === 92 && p + 1 < end && buf[p + 1] === 39 /* '\'' */) {
          p++;
          out[o++] = 39;
        } else if (c === 39) {
          if (p + 1 < end && !isSpace(buf[p + 1]!)) return false;
          inSingle = false;
          p++;
          break;
        } else {
          out[o++] = c;
        }
      } else {
        if (p >= end) break;
        const c = buf[p]!;
        if (endsBareArg(c)) break;
        if (c === 34) inDouble = true;
        else if (c === 39) inSingle = true;
        else out[o++] = c;
      }
      p++;
    }
    argv.push(argStart, o - argStart);
  }
  argv.buf = out;
  return true;
}

/**
 * Where Redis's query buffer would start for the incomplete request in buf[0..end), which
 * the parser has accepted so far. Redis moves each complete argument out of its query buffer
 * as it arrives, so only the argument still arriving counts against
 * client-query-buffer-limit: from its payload once its `$len` header is read, else from the
 * header. An inline request stays whole.
 */
export function pendingArgumentStart(buf: Uint8Array, end: number): number {
  if (buf[0] !== STAR) return 0;
  let cr = findCR(buf, 0, end);
  if (cr < 0 || cr + 1 >= end) return 0;
  const count = headerInt(buf, 1, cr);
  let pos = cr + 2;
  for (let k = 0; k < count && pos < end; k++) {
    cr = findCR(buf, pos, end);
    if (cr < 0 || cr + 1 >= end) return pos;
    const dataStart = cr + 2;
    const next = dataStart + headerInt(buf, pos + 1, cr) + 2;
    if (!(next <= end)) return dataStart;
    pos = next;
  }
  return pos;
}
