// Generates docs/config.md from the parameter table (src/config/params.ts): every redis.conf
// directive redbun accepts with its type, default, accepted values and whether CONFIG SET
// can change it. Written by `bun run docs` (scripts/gen-command-docs.ts) with the others.

import { type AnyParam, PARAMS } from "../src/config/params.ts";

/** What a special (own-syntax) parameter takes, in Redis's redis.conf words. */
const SPECIAL_SYNTAX: Record<string, string> = {
  dir: "a directory path",
  save: "`<seconds> <changes>` pairs, or `\"\"` for none",
  bind: "up to 16 addresses, or `\"\"` for none",
  replicaof: "`<host> <port>`, or `no one`",
  "client-output-buffer-limit": "`<class> <hard> <soft> <soft-seconds>` groups; class is normal, replica (slave) or pubsub",
  "oom-score-adj-values": "three integers from -2000 to 2000",
  "notify-keyspace-events": "event class characters from `Ag$lshzxeKEtmdn`",
  "latency-tracking-info-percentiles": "percentiles from 0.0 to 100.0, or `\"\"` for none",
};

/** A cell's text with the characters Markdown tables cannot hold escaped. */
function cell(s: string): string {
  return s.replace(/\|/g, "\\|");
}

function typeOf(p: AnyParam): string {
  if (p.name === "maxmemory-clients") return "memory or percent";
  if (p.name === "unixsocketperm") return "octal integer";
  if (p.kind === "special") return p.multiArg ? "list" : "string";
  if (p.kind === "enum" && p.multiArg) return "enum (several)";
  return p.kind === "bool" ? "yes/no" : p.kind === "int" ? "integer" : p.kind;
}

function defaultOf(p: AnyParam): string {
  // The default dir is wherever the server was started; the table only holds a placeholder.
  if (p.name === "dir") return "the working directory";
  const shown = (p.format as (v: unknown) => string)(p.default);
  return shown === "" ? '`""`' : `\`${shown}\``;
}

function valuesOf(p: AnyParam): string {
  if (p.choices) return p.choices.join(", ");
  if (p.kind === "bool") return "yes, no";
  if (p.min !== undefined && p.max !== undefined) {
    const f = (b: bigint) => (p.name === "unixsocketperm" ? b.toString(8) : b.toString());
    const range = `${f(p.min)} .. ${f(p.max)}`;
    // The percentage is stored as a negative number, hence the negative lower bound.
    if (p.name === "maxmemory-clients") return `0 .. ${p.max} bytes, or 0% .. ${-p.min}% of maxmemory`;
    return p.kind === "memory" ? `${range} bytes (units b, k, kb, m, mb, g, gb)` : range;
  }
  return SPECIAL_SYNTAX[p.name] ?? "any string";
}

function runtimeOf(p: AnyParam): string {
  if (!p.mutable) return "no";
  return p.protected ? "yes, where enable-protected-configs allows" : "yes";
}

/** The whole reference, one row per parameter in the table's (Redis's) order. */
export function configDocs(): string {
  const lines = [
    "# Configuration reference",
    "",
    "Generated from the parameter table (`src/config/params.ts`) by `bun run docs`; do not edit.",
    `redbun accepts ${PARAMS.length} redis.conf directives: every one of Redis 7.0, with Redis's defaults, bounds`,
    "and error messages, and a few of its own. \"CONFIG SET\" tells whether the directive can be changed at runtime; the others are read at",
    "start-up only (from the config file or `--name value` arguments). Hidden directives are left out of",
    "`CONFIG GET *` and answer only to their exact name. `CONFIG REWRITE` writes the current values back",
    "into the config file the server was started with.",
    "",
    "| Directive | Alias | Type | Default | Values | CONFIG SET |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const p of PARAMS) {
    const name = p.hidden ? `\`${p.name}\` (hidden)` : `\`${p.name}\``;
    const alias = p.alias ? `\`${p.alias}\`` : "";
    lines.push(`| ${[name, alias, typeOf(p), defaultOf(p), valuesOf(p), runtimeOf(p)].map(cell).join(" | ")} |`);
  }
  lines.push("");
  return lines.join("\n");
}
