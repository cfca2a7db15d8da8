// DEBUG LISTPACK prints the listpack on the server's standard output, as Redis's lpRepr
// does; the reply only says so. Both servers run with their output piped here, and the
// listings must be the same text but for the addresses. Redis's printf buffers a piped
// stdout until exit, so the listings are read after SHUTDOWN.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { RespConn, type ServerProcess, startRedbun, startRedis } from "../oracle/harness.ts";

let servers: ServerProcess[] = [];
let conns: RespConn[] = [];

beforeAll(async () => {
  servers = await Promise.all([startRedis(["--enable-debug-command", "yes"], "pipe"), startRedbun(["--enable-debug-command", "yes"], "pipe")]);
  conns = await Promise.all(servers.map((s) => RespConn.connect(s.port)));
});

afterAll(async () => {
  for (const c of conns) if (!c.isClosed) c.close();
  await Promise.all(servers.map((s) => s.stop()));
});

/** Every listing a server printed before it exited, from "{total bytes" to "{end}", without addresses. */
async function listings(server: ServerProcess): Promise<string[]> {
  const text = await new Response(server.proc.stdout as ReadableStream<Uint8Array>).text();
  return [...text.matchAll(/\{total bytes[^]*?\{end\}\n/g)].map((m) => m[0].replace(/\taddr: 0x[0-9a-f]+,\n/g, ""));
}

test("DEBUG LISTPACK prints what Redis's lpRepr prints", async () => {
  const commands = [
    // Long values stay in the listpack, so that 12- and 32-bit string headers are listed.
    ["CONFIG", "SET", "hash-max-listpack-value", "5000"],
    ["HSET", "h", "a", "1", "bb", "200", "ccc", "hello world", "num", "-5000", "big", "123456789012", "neg", "-9223372036854775808"],
    ["HSET", "h", "long", "x".repeat(50), "bin", "\x00\xff", "mid", "y".repeat(100)],
    ["HSET", "h", "huge", "z".repeat(4100)],
    ["ZADD", "z", "1.5", "m", "-2", "n", "inf", "o"],
  ];
  for (const cmd of commands) {
    const replies = await Promise.all(conns.map((c) => c.call(...cmd)));
    expect(replies[1]).toBe(replies[0]!);
  }
  for (const key of ["h", "z"]) {
    const replies = await Promise.all(conns.map((c) => c.call("DEBUG", "LISTPACK", key)));
    expect(replies[1]).toBe(replies[0]!);
  }
  for (const c of conns) c.write("*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n");
  const [want, got] = await Promise.all(servers.map(listings));
  expect(want!.length).toBe(2);
  expect(want![0]).toContain("[str]zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz...");
  expect(got).toEqual(want!);
});
