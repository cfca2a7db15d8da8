// docs/commands.md is generated from the command table: it must list every command the
// server has, in Redis's syntax, and be regenerated whenever the table changes.

import { expect, test } from "bun:test";
import { resolve } from "node:path";
import { commandDocs, generatedDocs } from "../../scripts/gen-command-docs.ts";
import { compatibilityDocs, readRedisCommands } from "../../scripts/gen-compat-docs.ts";
import { configDocs } from "../../scripts/gen-config-docs.ts";
import { allCommands } from "../../src/commands/index.ts";
import { PARAMS } from "../../src/config/params.ts";

test("docs/commands.md matches the command table (run bun run docs)", async () => {
  const committed = await Bun.file(resolve(import.meta.dir, "../../docs/commands.md")).text();
  expect(committed).toBe(commandDocs(allCommands));
});

test("every command has a section with Redis's documented syntax", () => {
  const text = commandDocs(allCommands);
  for (const def of allCommands) expect(text).toContain(`### ${def.name.toUpperCase()}\n`);
  expect(text).toContain("SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]");
  expect(text).toContain("MSET key value [key value ...]");
  expect(text).toContain("SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]");
});

test("docs/config.md and docs/compatibility.md match the tables (run bun run docs)", async () => {
  for (const [path, text] of generatedDocs()) {
    expect({ path, text: await Bun.file(path).text() }).toEqual({ path, text });
  }
});

test("docs/config.md has a row for every parameter with its default and runtime mutability", () => {
  const text = configDocs();
  for (const p of PARAMS) expect(text).toContain(`| \`${p.name}\``);
  expect(text).toContain("| `maxmemory-policy` |  | enum | `noeviction` | volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction | yes |");
  expect(text).toContain("| `databases` |  | integer | `16` | 1 .. 2147483647 | no |");
  expect(text).toContain("| `hash-max-listpack-entries` | `hash-max-ziplist-entries` | integer | `512` |");
  expect(text).toContain("| `save` |  | list | `3600 1 300 100 60 10000` |");
});

test("docs/compatibility.md marks every Redis 7.0 command implemented or not", () => {
  const redis = readRedisCommands();
  // Redis 7.0.15's COMMAND LIST: 240 commands and 126 subcommands.
  expect(redis.length).toBe(366);
  const text = compatibilityDocs(allCommands, redis);
  for (const cmd of redis) expect(text).toMatch(new RegExp(`\\| ${cmd.name.replace("|", " ").toUpperCase()} \\| [^|]+ \\| (yes|no) \\|`));
  expect(text).toContain("| GET | 1.0.0 | yes |");
  expect(text).toContain("| CONFIG REWRITE | 2.8.0 | yes |");
  // A name the table does not have is reported missing, whatever the table holds.
  expect(compatibilityDocs([], redis)).toContain("redbun implements 0 of the 366 commands");
});
