// docs/commands.md is generated from the command table: it must list every command the
// server has, in Redis's syntax, and be regenerated whenever the table changes.

import { expect, test } from "bun:test";
import { resolve } from "node:path";
import { commandDocs } from "../../scripts/gen-command-docs.ts";
import { allCommands } from "../../src/commands/index.ts";

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
