// Redis's error replies, byte for byte (server.c createSharedObjects and the t_*.c
// files). Kept in one module so that tests can check them and handlers never spell one.

import { encode } from "./writer.ts";

/** Errors that never vary, encoded once. */
export const ERR = {
  wrongType: encode("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
  syntax: encode("-ERR syntax error\r\n"),
  notInteger: encode("-ERR value is not an integer or out of range\r\n"),
  notFloat: encode("-ERR value is not a valid float\r\n"),
  noSuchKey: encode("-ERR no such key\r\n"),
  outOfRange: encode("-ERR index out of range\r\n"),
  dbIndex: encode("-ERR DB index is out of range\r\n"),
  overflow: encode("-ERR increment or decrement would overflow\r\n"),
  invalidExpire: encode("-ERR invalid expire time in 'set' command\r\n"),
  noAuth: encode("-NOAUTH Authentication required.\r\n"),
  invalidCursor: encode("-ERR invalid cursor\r\n"),
  bitOffset: encode("-ERR bit offset is not an integer or out of range\r\n"),
  bitValue: encode("-ERR bit is not an integer or out of range\r\n"),
  bitposBit: encode("-ERR The bit argument must be 1 or 0.\r\n"),
  bitopNotOneKey: encode("-ERR BITOP NOT must be called with a single source key.\r\n"),
  bitfieldType: encode("-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
  bitfieldOverflow: encode("-ERR Invalid OVERFLOW type specified\r\n"),
  bitfieldRoGetOnly: encode("-ERR BITFIELD_RO only supports the GET subcommand\r\n"),
  stringTooLong: encode("-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"),
  decrementOverflow: encode("-ERR decrement would overflow\r\n"),
  offsetOutOfRange: encode("-ERR offset is out of range\r\n"),
  nanOrInfinity: encode("-ERR increment would produce NaN or Infinity\r\n"),
  lcsNotStrings: encode("-ERR The specified keys must contain string values\r\n"),
  lcsLenAndIdx: encode("-ERR If you want both the length and indexes, please just use IDX.\r\n"),
  lcsTooLong: encode("-ERR String too long for LCS\r\n"),
  lcsTableTooBig: encode("-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"),
  lcsNoMemory: encode("-ERR Insufficient memory, failed allocating transient memory for LCS\r\n"),
  sameObject: encode("-ERR source and destination objects are the same\r\n"),
  notInt32: encode("-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"),
  notLongExceptMin: encode("-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"),
  hashValueNotInteger: encode("-ERR hash value is not an integer\r\n"),
  hashValueNotFloat: encode("-ERR hash value is not a float\r\n"),
  valueNaNOrInfinity: encode("-ERR value is NaN or Infinity\r\n"),
  valueOutOfRange: encode("-ERR value is out of range\r\n"),
  minMaxNotFloat: encode("-ERR min or max is not a float\r\n"),
  minMaxNotLex: encode("-ERR min or max not valid string range item\r\n"),
  scoreNaN: encode("-ERR resulting score is not a number (NaN)\r\n"),
  xxAndNx: encode("-ERR XX and NX options at the same time are not compatible\r\n"),
  gtLtNx: encode("-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"),
  incrSinglePair: encode("-ERR INCR option supports a single increment-element pair\r\n"),
  weightNotFloat: encode("-ERR weight value is not a float\r\n"),
  limitNeedsByscoreOrBylex: encode("-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"),
  withscoresWithBylex: encode("-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"),
  numkeysNotPositive: encode("-ERR numkeys should be greater than 0\r\n"),
  numkeysOverArgs: encode("-ERR Number of keys can't be greater than number of args\r\n"),
  limitNegative: encode("-ERR LIMIT can't be negative\r\n"),
  mustBePositive: encode("-ERR value is out of range, must be positive\r\n"),
  lposRankZero: encode(
    "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n",
  ),
  notListpack: encode("-ERR Not a listpack encoded object.\r\n"),
  notQuicklist: encode("-ERR Not a quicklist encoded object.\r\n"),
  packedThreshold: encode("-ERR argument must be a memory value bigger than 1 and smaller than 4gb\r\n"),
  sortScoresNotDouble: encode("-ERR One or more scores can't be converted into double\r\n"),
} as const;

export const wrongArity = (name: string): string => `ERR wrong number of arguments for '${name}' command`;

/**
 * Redis prints the name and the first arguments with printf's `%.*s`: each is cut at a NUL
 * byte, the name at 128 bytes, and arguments are added while the list is under 128 bytes.
 */
export function unknownCommand(name: string, args: string[]): string {
  let list = "";
  for (let i = 0; i < args.length && list.length < 128; i++) {
    list += `'${cString(args[i]!, 128 - list.length)}' `;
  }
  return `ERR unknown command '${cString(name, 128)}', with args beginning with: ${list}`;
}

export function unknownSubcommand(sub: string, command: string): string {
  return `ERR unknown subcommand '${cString(sub, 128)}'. Try ${command.toUpperCase()} HELP.`;
}

/** Redis's addReplySubcommandSyntaxError: a known subcommand given the wrong arguments. */
export function subcommandSyntaxError(sub: string, command: string): string {
  return `ERR unknown subcommand or wrong number of arguments for '${cString(sub, 128)}'. Try ${command.toUpperCase()} HELP.`;
}

/** What C's `%.{max}s` prints of a string: up to the first NUL, at most max bytes. */
export function cString(s: string, max: number): string {
  const nul = s.indexOf("\0");
  const end = nul < 0 ? s.length : nul;
  return s.slice(0, Math.min(end, max));
}

/** ZUNION, ZINTERCARD and the other set operations given numkeys below 1. */
export const atLeastOneInputKey = (command: string): string => `ERR at least 1 input key is needed for '${command}' command`;

export const invalidExpireTime = (command: string): string => `ERR invalid expire time in '${command}' command`;

/** An option word a command does not know, printed with `%s` as Redis does (cut at a NUL). */
export const unsupportedOption = (option: string): string => `ERR Unsupported option ${cString(option, option.length)}`;

/** hyperloglog.c's replies for a string that is no HLL, and for a malformed sparse HLL. */
export const hllWrongType = encode("-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n");
export const hllInvalid = encode("-INVALIDOBJ Corrupted HLL object detected\r\n");
