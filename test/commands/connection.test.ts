import { afterAll, beforeAll, expect, test } from "bun:test";
import { Oracle } from "../oracle/harness.ts";

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start();
});
afterAll(() => o.stop());

test("PING and ECHO", async () => {
  expect(await o.same("PING")).toBe("+PONG\r\n");
  await o.same("ping", "hello");
  await o.same("PING", "a", "b");
  await o.same("ECHO", "\xff\x00binary");
  await o.same("ECHO");
});

test("SELECT", async () => {
  await o.sameAll([["SELECT", "1"], ["SELECT", "16"], ["SELECT", "-1"], ["SELECT", "x"], ["SELECT", "01"], ["SELECT", "0"]]);
});

test("unknown commands", async () => {
  await o.same("FOO");
  await o.same("foo", "bar", "baz");
  await o.same("foo", "x".repeat(200), "y");
  await o.same("foo", "a\x00b", "c");
});
