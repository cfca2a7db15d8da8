// start + close, hundreds of times: a closed server leaves no descriptor, timer or socket
// behind, so that a test run can start one per test and its process still exits.

import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { startServer } from "../../src/index.ts";

function openDescriptors(): number {
  return readdirSync("/proc/self/fd").length;
}

describe("start and close 200 times", () => {
  test("leaves no open descriptor in this process", async () => {
    // One cycle first, so that lazily opened descriptors (the event loop's) are counted as before.
    await (await startServer()).close();
    const before = openDescriptors();
    for (let i = 0; i < 200; i++) {
      const server = await startServer();
      if (i % 10 === 0) {
        const client = new Bun.RedisClient(server.url);
        expect(await client.send("PING", [])).toBe("PONG");
        client.close();
      }
      await server.close();
    }
    // Clients closed on our side finish closing on the next turns of the event loop.
    let after = openDescriptors();
    for (let turn = 0; turn < 50 && after > before; turn++) {
      await Bun.sleep(10);
      after = openDescriptors();
    }
    expect(after).toBeLessThanOrEqual(before);
  });

  test("close() ends the connections MIGRATE cached to its targets", async () => {
    const source = await startServer();
    const target = await startServer();
    const toSource = new Bun.RedisClient(source.url);
    const toTarget = new Bun.RedisClient(target.url);
    try {
      await toSource.send("SET", ["moving", "1"]);
      expect(await toSource.send("MIGRATE", [target.host, String(target.port), "moving", "0", "5000"])).toBe("OK");
      const clients = async () => String(await toTarget.send("CLIENT", ["LIST"])).trim().split("\n").length;
      // Ours and the source's cached link.
      expect(await clients()).toBe(2);
      await source.close();
      let count = await clients();
      for (let turn = 0; turn < 100 && count > 1; turn++) {
        await Bun.sleep(10);
        count = await clients();
      }
      expect(count).toBe(1);
    } finally {
      toSource.close();
      toTarget.close();
      await target.close();
    }
  });

  test("a process that closed its servers exits by itself", async () => {
    const fixture = join(import.meta.dir, "cycles-fixture.ts");
    const child = Bun.spawn([process.execPath, fixture, "200"], { stdout: "pipe", stderr: "pipe" });
    const reader = child.stdout.getReader();
    let output = "";
    while (!output.includes("cycles finished")) {
      const { value, done } = await reader.read();
      if (done) break;
      output += new TextDecoder().decode(value);
    }
    expect(output).toContain("cycles finished: 200");
    const doneAtMs = performance.now();
    const exited = await Promise.race([child.exited.then(() => "exited"), Bun.sleep(3000).then(() => "still running")]);
    if (exited !== "exited") child.kill();
    expect(exited).toBe("exited");
    expect(child.exitCode).toBe(0);
    expect(performance.now() - doneAtMs).toBeLessThan(3000);
  }, 20_000);
});
