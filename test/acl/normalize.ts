// Comparing ACL replies between Redis and redbun. Redis describes a user's single-command
// rules (after +@all/-@all and the categories) in its command dictionary's order, which
// changes with every process (the hash seed is random), so runs of single +cmd/-cmd rules
// are compared as sets: sorted in place, which keeps every bulk length as it was.
// ACL LOG's age and client info vary by nature and are normalized.

import { expect } from "bun:test";
import { type Reply, decodeReply } from "../oracle/resp.ts";

const SINGLE_RULE = /^[+-][^@]/;

/** A rules text with each run of single-command rules sorted (a selector's ")" stays last). */
export function sortSingleRules(text: string): string {
  const tokens = text.split(" ");
  let i = 0;
  while (i < tokens.length) {
    if (!SINGLE_RULE.test(tokens[i]!)) {
      i++;
      continue;
    }
    let j = i;
    let closes = false;
    while (j < tokens.length && SINGLE_RULE.test(tokens[j]!)) {
      if (tokens[j]!.endsWith(")")) {
        closes = true;
        j++;
        break;
      }
      j++;
    }
    const run = tokens.slice(i, j).map((t) => t.replace(/\)$/, "")).sort();
    if (closes) run[run.length - 1] += ")";
    tokens.splice(i, j - i, ...run);
    i = j;
  }
  return tokens.join(" ");
}

/** A raw reply with every bulk string's single-command rules sorted. */
export function sortRulesInReply(raw: string): string {
  return raw.replace(/(\$\d+\r\n)([^\r\n]*)(\r\n)/g, (_m, head: string, body: string, tail: string) => head + sortSingleRules(body) + tail);
}

/** ACL LOG entries decoded, with age-seconds dropped and client-info reduced to its cmd and user. */
export function normalizedLog(raw: string): unknown {
  const reply = decodeReply(raw);
  if (!Array.isArray(reply)) return reply;
  return reply.map((entry) => {
    const pairs = toPairs(entry);
    return pairs.map(([k, v]) => {
      if (k === "age-seconds") {
        expect(Number(v)).toBeGreaterThanOrEqual(0);
        return [k, "AGE"];
      }
      if (k === "client-info") {
        const info = String(v);
        const pick = (field: string) => new RegExp(`(?:^| )${field}=(\\S*)`).exec(info)?.[1];
        return [k, `db=${pick("db")} user=${pick("user")} flags=${pick("flags")} cmd=${pick("cmd")} multi=${pick("multi")}`];
      }
      return [k, v];
    });
  });
}

function toPairs(entry: Reply): [Reply, Reply][] {
  if (!Array.isArray(entry)) return (entry as { map: [Reply, Reply][] }).map;
  const flat = entry as Reply[];
  const out: [Reply, Reply][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}
