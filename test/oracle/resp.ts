// Reading replies in tests: a RESP2/RESP3 decoder, the raw items of an aggregate, pairs in
// either protocol's shape, order-free comparisons, and whole SCAN-family iterations.
// Replies are the latin1 strings RespConn returns, one char per byte.

import { type RespConn, bulkArray, replyEnd } from "./harness.ts";

/**
 * A decoded reply: bulk, simple and verbatim strings, doubles and big numbers as strings,
 * integers as numbers, nulls as null, arrays, sets and pushes as arrays, maps as their
 * pairs in order, errors as their line.
 */
export type Reply = string | number | boolean | null | Reply[] | { map: [Reply, Reply][] } | { error: string };

/** Decodes one complete reply. */
export function decodeReply(reply: string): Reply {
  let pos = 0;
  const line = (): string => {
    const end = reply.indexOf("\r\n", pos);
    const s = reply.slice(pos + 1, end);
    pos = end + 2;
    return s;
  };
  const value = (): Reply => {
    const type = reply[pos];
    const head = line();
    switch (type) {
      case "-":
        return { error: head };
      case "+":
      case ",":
      case "(":
        return head;
      case ":":
        return Number(head);
      case "#":
        return head === "t";
      case "_":
        return null;
      case "$":
      case "=": {
        if (head === "-1") return null;
        const s = reply.slice(pos, pos + Number(head));
        pos += Number(head) + 2;
        return s;
      }
      case "*":
      case "~":
      case ">":
        if (head === "-1") return null;
        return Array.from({ length: Number(head) }, value);
      case "%":
        return { map: Array.from({ length: Number(head) }, () => [value(), value()] as [Reply, Reply]) };
      default:
        throw new Error(`cannot decode ${JSON.stringify(reply.slice(pos - head.length - 3, pos + 20))}`);
    }
  };
  return value();
}

/** A decoded reply with its maps as plain objects, keyed by their (string) keys in order. */
export function withObjects(reply: Reply): unknown {
  if (Array.isArray(reply)) return reply.map(withObjects);
  if (reply === null || typeof reply !== "object" || !("map" in reply)) return reply;
  const object: Record<string, unknown> = {};
  for (const [k, v] of reply.map) object[k as string] = withObjects(v);
  return object;
}

/** Items taken two by two: [a, b, c, d] gives [[a, b], [c, d]]. */
export function inPairs<T>(items: T[]): [T, T][] {
  const pairs: [T, T][] = [];
  for (let i = 0; i < items.length; i += 2) pairs.push([items[i]!, items[i + 1]!]);
  return pairs;
}

/**
 * The pairs of a reply that lists them (HGETALL, HRANDFIELD and ZRANGE with WITHVALUES or
 * WITHSCORES): a map, an array of two-element arrays (RESP3), or a flat array (RESP2).
 */
export function replyPairs(reply: Reply): [string, string][] {
  if (!Array.isArray(reply)) return (reply as { map: [string, string][] }).map;
  if (reply.length > 0 && Array.isArray(reply[0])) return reply as [string, string][];
  return inPairs(reply as string[]);
}

/** The raw items of the aggregate reply that starts at `pos` (a map gives keys and values). */
export function rawItems(reply: string, pos = 0): string[] {
  const buf = Buffer.from(reply, "latin1");
  const lineEnd = reply.indexOf("\r\n", pos);
  const n = Number(reply.slice(pos + 1, lineEnd));
  const count = reply[pos] === "%" ? 2 * n : n;
  const items: string[] = [];
  let at = lineEnd + 2;
  for (let i = 0; i < count; i++) {
    const end = replyEnd(buf, at);
    items.push(reply.slice(at, end));
    at = end;
  }
  return items;
}

/** Items in a canonical order (each as JSON, sorted), to compare two lists as multisets. */
export function canonical(items: unknown[]): string[] {
  return items.map((x) => JSON.stringify(x)).sort();
}

/**
 * A flat aggregate reply as its header and its bulk items sorted: the reply with its order
 * ignored. Other replies are returned as they are.
 */
export function asMultiset(reply: string): string {
  if (reply[0] !== "*" && reply[0] !== "~") return reply;
  return `${reply.slice(0, reply.indexOf("\r\n"))} ${JSON.stringify(bulkArray(reply).sort())}`;
}

/** A SCAN that has not come back to cursor 0 after this many calls is broken. */
const SCAN_CALLS_MAX = 100_000;

/**
 * Runs a whole SCAN, HSCAN, SSCAN or ZSCAN iteration on one connection: `args` is the
 * command with its key, a cursor (replaced) and its options, sent from cursor 0 until
 * cursor 0 comes back. Returns every element the replies listed, in order and repeats
 * included (pairs flat), or, when a call fails, that error reply alone.
 */
export async function scanAll(conn: RespConn, args: string[]): Promise<string[]> {
  const cursorAt = args[0]!.toLowerCase() === "scan" ? 1 : 2;
  const elements: string[] = [];
  let cursor = "0";
  for (let call = 0; call < SCAN_CALLS_MAX; call++) {
    const reply = await conn.call(...args.slice(0, cursorAt), cursor, ...args.slice(cursorAt + 1));
    if (reply.startsWith("-")) return [reply];
    const [next, items] = decodeReply(reply) as [string, string[]];
    elements.push(...items);
    cursor = next;
    if (cursor === "0") return elements;
  }
  throw new Error(`${JSON.stringify(args)} did not come back to cursor 0`);
}

/** The distinct elements a whole scan returns (SCAN's keys, SSCAN's members), sorted; or its error alone. */
export async function scanDistinct(conn: RespConn, args: string[]): Promise<string[]> {
  return [...new Set(await scanAll(conn, args))].sort();
}

/** The pairs a whole HSCAN or ZSCAN returns, each element once, in the order first seen. */
export async function scanPairs(conn: RespConn, args: string[]): Promise<[string, string][]> {
  return [...new Map(inPairs(await scanAll(conn, args)))];
}
