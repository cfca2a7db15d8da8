// Argument parsing shared by command handlers. Like Redis's get*FromObjectOrReply, each
// helper replies with Redis's error itself when the argument is invalid and returns null.

import type { Client } from "../server/client.ts";
import { ERR } from "../resp/errors.ts";
import { type Int64, LD_FINITE, parseLongDouble, parseLongLong, parsedInt64 } from "../util/numbers.ts";

/**
 * Argument i as an integer that fits a JS safe integer (counts, indexes, database numbers),
 * or null after replying "value is not an integer or out of range". Values of the int64
 * range beyond 2^53 come back rounded, which is harmless for the range checks callers do.
 */
export function parseIntArg(c: Client, i: number): number | null {
  const argv = c.argv;
  if (!parseLongLong(argv.buf, argv.start[i]!, argv.len[i]!)) {
    c.w.addErrorBytes(ERR.notInteger);
    return null;
  }
  return parsedInt64.value;
}

/**
 * Argument i as a C int (Redis's getIntFromObjectOrReply: database numbers), or null after
 * replying with the integer error or, for an int64 outside the int range, the range error.
 */
export function parseInt32Arg(c: Client, i: number): number | null {
  const n = parseIntArg(c, i);
  if (n === null) return null;
  if (n < -2147483648 || n > 2147483647) {
    c.w.addErrorBytes(ERR.notInt32);
    return null;
  }
  return n;
}

/**
 * Argument i as an integer within [min, max] (Redis's getRangeLongFromObjectOrReply given a
 * message), or null after replying `message` for a non-integer or an out-of-range value alike.
 */
export function parseRangeArgOr(c: Client, i: number, min: number, max: number, message: string): number | null {
  const argv = c.argv;
  if (!parseLongLong(argv.buf, argv.start[i]!, argv.len[i]!) || parsedInt64.value < min || parsedInt64.value > max) {
    c.w.addError(message);
    return null;
  }
  return parsedInt64.value;
}

/**
 * Argument i as an exact int64 (Redis's getLongLongFromObjectOrReply where the full range
 * matters: INCRBY amounts, expire times), or null after replying the integer error.
 */
export function parseInt64Arg(c: Client, i: number): Int64 | null {
  const argv = c.argv;
  if (!parseLongLong(argv.buf, argv.start[i]!, argv.len[i]!)) {
    c.w.addErrorBytes(ERR.notInteger);
    return null;
  }
  return parsedInt64.safe ? parsedInt64.value : parsedInt64.big;
}

/** What Redis 7.0's timeouts count in: blocking commands take seconds, CLIENT PAUSE ms. */
export const enum TimeoutUnit {
  Seconds = 0,
  Milliseconds = 1,
}

/** C's cast of an out-of-range double to long long on x86: the "integer indefinite" value. */
const INT64_INDEFINITE = -9223372036854775808;

/**
 * Argument i as a timeout (Redis 7.0's getTimeoutFromObjectOrReply): the absolute time in
 * ms at which it ends, or 0 for "never", or null after replying. Seconds are a long double
 * whose milliseconds are truncated to int64 as C casts them, so a timeout too large for
 * int64 (1e20, inf) comes out negative and is refused as such, and one below a
 * millisecond (0.0001) means no timeout, exactly as on Redis 7.0. Like Redis 7.0, an end
 * beyond the int64 range wraps around into the past.
 */
export function parseTimeoutArg(c: Client, i: number, unit: TimeoutUnit): number | null {
  const argv = c.argv;
  let ms: number;
  if (unit === TimeoutUnit.Seconds) {
    const seconds = parseLongDouble(argv.buf, argv.start[i]!, argv.len[i]!);
    if (seconds === null) {
      c.w.addError("ERR timeout is not a float or out of range");
      return null;
    }
    const product = seconds.kind === LD_FINITE ? Number(seconds.mant) * 2 ** seconds.exp * 1000 : Infinity;
    ms = product < 9223372036854775807 ? Math.trunc(product) : INT64_INDEFINITE;
    if (seconds.negative && ms !== INT64_INDEFINITE) ms = -ms;
  } else {
    if (!parseLongLong(argv.buf, argv.start[i]!, argv.len[i]!)) {
      c.w.addError("ERR timeout is not an integer or out of range");
      return null;
    }
    ms = parsedInt64.value;
    if (!parsedInt64.safe && ms > 0) {
      // Beyond 2^53 only the wrap-around past int64 matters, which needs the exact sum.
      return Number(BigInt.asIntN(64, parsedInt64.big + BigInt(c.server.clock.nowMs)));
    }
  }
  if (ms < 0) {
    c.w.addError("ERR timeout is negative");
    return null;
  }
  return ms === 0 ? 0 : ms + c.server.clock.nowMs;
}
