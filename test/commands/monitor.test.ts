// MONITOR against the real redis-server 7.0: a monitoring connection on each server sees
// the same lines for the same commands (timestamps and client addresses aside), including
// transactions, refused commands, admin commands left out and redacted passwords. One
// scenario watches through redis-cli's own `monitor` mode.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Oracle, RespConn } from "../oracle/harness.ts";
import { onBoth } from "../oracle/sides.ts";

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start();
});
afterAll(() => o.stop());

const END = "end-of-scenario";

/** Read monitor lines until the ECHO of END, with time and address replaced by "T" and "ADDR". */
async function linesUntilEnd(monitor: RespConn): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    const line = await monitor.read();
    const m = line.match(/^\+(\d+)\.(\d{6}) \[(\d+) ([^\]]+)\](.*)\r\n$/);
    if (m === null) throw new Error(`not a monitor line: ${JSON.stringify(line)}`);
    // The time is the server's wall clock in microseconds.
    expect(Math.abs(Number(m[1]) - Date.now() / 1000)).toBeLessThan(10);
    lines.push(`+T [${m[3]} ADDR]${m[5]}`);
    if (m[5] === ` "ECHO" "${END}"`) return lines;
  }
}

describe("MONITOR", () => {
  test("what a monitor sees of another client's commands", async () => {
    const [want, got] = await onBoth(o, async (side) => {
      const monitor = await side.connect();
      const c = await side.connect();
      const replies: string[] = [await monitor.call("MONITOR")];
      for (const cmd of [
        ["SET", "a", "1"],
        ["SELECT", "3"], ["SET", "k e y", 'quo"te\\back\n\r\t\x07\x08\x00\xff'], ["SELECT", "0"],
        ["NOSUCH", "x"], ["GET"],
        ["MULTI"], ["SET", "b", "2"], ["GET", "b"], ["EXEC"],
        ["MULTI"], ["SET", "b"], ["EXEC"],
        ["MULTI"], ["EXEC", "extra"],
        ["CONFIG", "GET", "maxmemory"], ["DEBUG", "SLEEP", "0"], ["CLIENT", "ID"],
        ["BLPOP", "nolist", "0.01"],
        ["AUTH", "pw"], ["AUTH", "a", "b", "c"], ["AUTH", "user", "pw"],
        ["HELLO", "2", "AUTH", "default", "secret"], ["HELLO", "2"],
        ["MULTI"], ["MONITOR"], ["EXEC"],
        ["ECHO", END],
      ]) {
        const reply = await c.call(...cmd);
        // Client ids and HELLO's server description differ between the servers.
        if (cmd[0] !== "CLIENT" && cmd[0] !== "HELLO") replies.push(reply);
      }
      return { replies, lines: await linesUntilEnd(monitor) };
    });
    expect(got).toEqual(want);
  });

  test("a monitor's own commands, a second MONITOR without a reply, and two monitors", async () => {
    const [want, got] = await onBoth(o, async (side) => {
      const m1 = await side.connect();
      const m2 = await side.connect();
      const seen: string[] = [await m1.call("MONITOR"), await m2.call("MONITOR")];
      // The second MONITOR has no reply: the next thing m1 reads is its PING's reply.
      m1.write(new TextEncoder().encode("*1\r\n$7\r\nMONITOR\r\n*1\r\n$4\r\nPING\r\n"));
      seen.push(await m1.read());
      seen.push(...(await linesUntilEnd(await echoEnd(side.port, m1))));
      seen.push(...(await linesUntilEnd(m2)));
      return seen;
    });
    expect(got).toEqual(want);
  });

  test("redis-cli monitor shows redbun's commands like Redis's", async () => {
    const outputs: string[] = [];
    for (const server of [o.redis, o.redbun]) {
      const cli = Bun.spawn(["redis-cli", "-p", String(server.port), "monitor"], { stdout: "pipe", stderr: "ignore" });
      const conn = await RespConn.connect(server.port);
      // Wait until the monitor is registered: CLIENT LIST shows its O flag.
      while (!(await conn.call("CLIENT", "LIST")).includes("flags=O")) await Bun.sleep(5);
      await conn.call("SET", "cli-key", "v a l");
      await conn.call("ECHO", END);
      conn.close();
      const reader = cli.stdout.getReader();
      let text = "";
      while (!text.includes(END)) text += new TextDecoder().decode((await reader.read()).value);
      cli.kill();
      outputs.push(text.replace(/^\d+\.\d{6} \[(\d+) [^\]]+\]/gm, "T [$1]").replace(/^OK\n/, ""));
    }
    expect(outputs[1]).toBe(outputs[0]!);
    expect(outputs[0]).toContain('"SET" "cli-key" "v a l"');
  });
});

/** Send ECHO END from a fresh connection so that `monitor` sees the scenario end; returns it. */
async function echoEnd(port: number, monitor: RespConn): Promise<RespConn> {
  const c = await RespConn.connect(port);
  await c.call("ECHO", END);
  c.close();
  return monitor;
}
