// Listening as Redis does: `bind` with IPv4 and IPv6 addresses on one port (IPv6 listeners
// are IPv6-only, so `* -::*` works), and peers named as Redis names them ("[::1]:port").

import { expect, test } from "bun:test";
import { startRedbun, startRedis } from "../oracle/harness.ts";

/** CLIENT INFO's addr and laddr over a connection to host:port. */
async function clientAddrs(host: string, port: number): Promise<[string, string]> {
  const proc = Bun.spawn(["redis-cli", "-h", host, "-p", String(port), "CLIENT", "INFO"], { stdout: "pipe" });
  const text = await new Response(proc.stdout).text();
  await proc.exited;
  const field = (name: string) => text.match(new RegExp(`(?:^| )${name}=(\\S*)`))?.[1] ?? "";
  return [field("addr"), field("laddr")];
}

test("IPv4 and IPv6 on the same port, IPv6 peers in brackets, as Redis", async () => {
  await using redis = await startRedis(["--bind", "127.0.0.1", "::1"]);
  await using redbun = await startRedbun(["--bind", "127.0.0.1", "::1"]);
  for (const [host, prefix] of [["127.0.0.1", "127.0.0.1:"], ["::1", "[::1]:"]] as const) {
    const [want, got] = await Promise.all([clientAddrs(host, redis.port), clientAddrs(host, redbun.port)]);
    expect(want[0].startsWith(prefix)).toBe(true);
    expect(got[0].startsWith(prefix)).toBe(true);
    expect(got[1]).toBe(`${prefix}${redbun.port}`);
    expect(want[1]).toBe(`${prefix}${redis.port}`);
  }
});

test("the default bind (* -::*) listens on IPv4 and IPv6", async () => {
  await using redbun = await startRedbun(["--bind", "*", "-::*"]);
  const [v4] = await clientAddrs("127.0.0.1", redbun.port);
  const [v6] = await clientAddrs("::1", redbun.port);
  expect(v4.startsWith("127.0.0.1:")).toBe(true);
  expect(v6.startsWith("[::1]:")).toBe(true);
});
