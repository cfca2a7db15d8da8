#!/usr/bin/env bun
// Generates docs/commands.md from the command table, so the reference can never drift from
// what the server actually implements, together with docs/config.md (scripts/gen-config-docs.ts)
// and docs/compatibility.md (scripts/gen-compat-docs.ts). `bun scripts/gen-command-docs.ts`
// (`bun run docs`) rewrites the files; `--check` exits 1 when a committed file is out of date.

import { resolve } from "node:path";
import { allCommands } from "../src/commands/index.ts";
import { Command, type CommandDef } from "../src/commands/table.ts";
import { compatibilityDocs } from "./gen-compat-docs.ts";
import { configDocs } from "./gen-config-docs.ts";

/** An argument as COMMAND DOCS describes it (the `arguments` field of a CommandDef). */
interface DocArg {
  name: string;
  type: string;
  token?: string;
  flags?: string[];
  arguments?: DocArg[];
}

const OUT_PATH = resolve(import.meta.dir, "../docs/commands.md");

/** One argument in Redis's documented syntax: `[EX seconds | PX milliseconds]`, `key [key ...]`. */
function argSyntax(arg: DocArg): string {
  const flags = arg.flags ?? [];
  let one: string;
  if (arg.type === "pure-token") one = arg.token ?? arg.name.toUpperCase();
  else if (arg.type === "oneof") {
    one = (arg.arguments ?? []).map(argSyntax).join(" | ");
    // A required choice is marked <a | b>; an optional one gets its brackets below.
    if (!flags.includes("optional") || arg.token !== undefined) one = `<${one}>`;
  }
  else if (arg.type === "block") one = (arg.arguments ?? []).map(argSyntax).join(" ");
  else one = arg.name;
  const withToken = arg.token !== undefined && arg.type !== "pure-token" ? `${arg.token} ${one}` : one;
  let body = withToken;
  if (flags.includes("multiple")) {
    // A repeated token (SORT's GET pattern [GET pattern ...]) or one token before the list.
    body = flags.includes("multiple_token") ? `${withToken} [${withToken} ...]` : withToken.replace(one, `${one} [${one} ...]`);
  }
  return flags.includes("optional") ? `[${body}]` : body;
}

function syntax(def: CommandDef): string {
  const name = def.name.replace("|", " ").toUpperCase();
  const args = ((def.arguments ?? []) as DocArg[]).map(argSyntax);
  return [name, ...args].join(" ");
}

function describe(def: CommandDef, parent: Command | null): string[] {
  const cmd = new Command(def, parent);
  const lines = [`### ${def.name.replace("|", " ").toUpperCase()}`, "", "```", syntax(def), "```", "", def.summary.endsWith(".") ? def.summary : def.summary + "."];
  lines.push("");
  lines.push(`- Available since: ${def.since}`);
  if (def.complexity !== undefined) lines.push(`- Time complexity: ${def.complexity}`);
  lines.push(`- Arity: ${def.arity}`);
  const flags = def.flags.split(" ").filter((f) => f !== "");
  if (flags.length > 0) lines.push(`- Flags: ${flags.join(", ")}`);
  lines.push(`- ACL categories: ${cmd.aclCategories.map((c) => "@" + c).join(", ")}`);
  lines.push("");
  const out = [...lines];
  for (const sub of def.subcommands ?? []) out.push(...describe(sub, cmd));
  return out;
}

/** The whole reference: commands grouped as Redis groups them, alphabetical within a group. */
export function commandDocs(defs: readonly CommandDef[]): string {
  const groups = new Map<string, CommandDef[]>();
  for (const def of defs) (groups.get(def.group) ?? groups.set(def.group, []).get(def.group)!).push(def);
  const lines = [
    "# Command reference",
    "",
    "Generated from the command table (`src/commands/`) by `bun scripts/gen-command-docs.ts`; do not edit.",
    `redbun implements ${defs.length} commands; each behaves as in Redis 7.0.`,
    "",
  ];
  for (const group of [...groups.keys()].sort()) {
    lines.push(`## ${group}`, "");
    for (const def of groups.get(group)!.sort((a, b) => a.name.localeCompare(b.name))) lines.push(...describe(def, null));
  }
  return lines.join("\n");
}

/** Every generated document: its path and its text as the tables make it now. */
export function generatedDocs(): [path: string, text: string][] {
  return [
    [OUT_PATH, commandDocs(allCommands)],
    [resolve(import.meta.dir, "../docs/config.md"), configDocs()],
    [resolve(import.meta.dir, "../docs/compatibility.md"), compatibilityDocs(allCommands)],
  ];
}

if (import.meta.main) {
  const check = process.argv.includes("--check");
  let stale = false;
  for (const [path, text] of generatedDocs()) {
    const file = Bun.file(path);
    if (!check) {
      await Bun.write(path, text);
      console.log(`wrote ${path}`);
    } else if (!(await file.exists()) || (await file.text()) !== text) {
      console.error(`${path} is out of date: run bun run docs`);
      stale = true;
    }
  }
  if (stale) process.exit(1);
}
