// Argument parsing shared by command handlers. Like Redis's get*FromObjectOrReply, each
// helper replies with Redis's error itself when the argument is invalid and returns null.

import type { Client } from "../server/client.ts";
import { ERR } from "../resp/errors.ts";
import { type Int64, parseLongLong, parsedInt64 } from "../util/numbers.ts";

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
