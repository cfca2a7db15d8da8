// Listening as Redis does: `bind` with IPv4 and IPv6 addresses on one port (IPv6 listeners
// are IPv6-only, so `* -::*` works), and peers named as Redis names them ("[::1]:port").

import { expect, test } from "bun:test";
import { RespConn, freePort, startRedbun, startRedis } from "../oracle/harness.ts";
import { makeCerts, tlsArgs, tlsCall, trustedClient } from "./tls-certs.ts";
import { startupFailure } from "./net-helpers.ts";

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

/** A server that refuses to start: its exit code and its last two log lines. */
async function failedStart(kind: "redis" | "redbun", args: string[]): Promise<[number, string[]]> {
  const [code, lines] = await startupFailure(kind, args);
  return [code, lines.slice(-2)];
}

test("a port in use (plain or TLS) stops the start with Redis's lines", async () => {
  await using busy = await startRedis();
  using certs = makeCerts();
  const tls = ["--port", "0", ...tlsArgs(certs, busy.port)];
  for (const args of [["--port", String(busy.port)], tls]) {
    const [redis, redbun] = await Promise.all([failedStart("redis", ["--bind", "127.0.0.1", ...args]), failedStart("redbun", ["--bind", "127.0.0.1", ...args])]);
    expect(redis[0]).toBe(1);
    expect(redis[1][0]).toContain(`Could not create server TCP listening socket 127.0.0.1:${busy.port}`);
    expect(redbun).toEqual(redis);
  }
});

test("CONFIG SET port, bind and tls-port move the listeners as in Redis; connections stay", async () => {
  using certs = makeCerts();
  const blocker = Bun.listen({ hostname: "0.0.0.0", port: 0, socket: { data() {} } });
  await using redis = await startRedis();
  await using redbun = await startRedbun();
  const conns = await Promise.all([RespConn.connect(redis.port), RespConn.connect(redbun.port)]);
  const ports = [freePort(), freePort()];
  /** The same CONFIG SET on both (each its own `port`), replies compared. */
  const same = async (...args: (string | ((port: number) => string))[]) => {
    const replies = await Promise.all(conns.map((c, i) => c.call(...args.map((a) => (typeof a === "string" ? a : a(ports[i]!))))));
    expect(replies[1]).toBe(replies[0]!);
    return replies[0]!;
  };
  const tlsFiles = ["tls-cert-file", certs.serverCert, "tls-key-file", certs.serverKey, "tls-ca-cert-file", certs.caCert];
  try {
    expect(await same("CONFIG", "SET", "port", String(blocker.port))).toStartWith("-ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen");
    expect(await same("CONFIG", "SET", "bind", "192.0.2.254")).toStartWith("-ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind");
    expect(await same("CONFIG", "SET", "tls-port", (p) => String(p))).toStartWith("-ERR CONFIG SET failed (possibly related to argument 'tls-port') - Unable to update TLS");
    // TLS files are only read while TLS is in use.
    expect(await same("CONFIG", "SET", "tls-cert-file", "/no/such/file")).toBe("+OK\r\n");
    expect(await same("CONFIG", "SET", ...tlsFiles, "tls-port", (p) => String(p))).toBe("+OK\r\n");
    for (const port of ports) expect(await tlsCall(port, trustedClient(certs), "PING")).toBe("+PONG\r\n");
    expect(await same("CONFIG", "SET", "tls-key-file", "/no/such/file")).toStartWith("-ERR CONFIG SET failed (possibly related to argument 'tls-key-file') - Unable to update TLS");
    expect(await same("CONFIG", "SET", "tls-port", "0")).toBe("+OK\r\n");
    // The plain listener moves; the connection that asked stays.
    ports[0] = freePort();
    ports[1] = freePort();
    expect(await same("CONFIG", "SET", "port", (p) => String(p))).toBe("+OK\r\n");
    expect(await same("PING")).toBe("+PONG\r\n");
    for (const port of ports) {
      const moved = await RespConn.connect(port);
      expect(await moved.call("CONFIG", "GET", "port")).toBe(`*2\r\n$4\r\nport\r\n$${String(port).length}\r\n${port}\r\n`);
      moved.close();
    }
    await expect(RespConn.connect(redbun.port)).rejects.toThrow();
  } finally {
    for (const c of conns) c.close();
    blocker.stop(true);
  }
});
