// protected-mode, side by side with redis-server 7.0: a client connecting through one of this
// machine's non-loopback addresses is refused with the same DENIED bytes while the default
// user has no password, whatever `bind` says; loopback clients, a password or
// protected-mode no let it in.

import { expect, test } from "bun:test";
import { encodeCommand, freePort, startRedbun, startRedis } from "../oracle/harness.ts";
import { externalAddress } from "./net-helpers.ts";
import { makeCerts, tlsArgs } from "./tls-certs.ts";

const external = externalAddress();
if (external === null) console.warn("protected-mode tests skipped: this machine has no non-loopback IPv4 address");

/**
 * Connects to host:port (over TLS when `tls`), sends PING, and collects what arrives until
 * the server closes or 1 s passes.
 */
async function pingFrom(host: string, port: number, tls = false): Promise<{ reply: string; closed: boolean }> {
  const { promise, resolve } = Promise.withResolvers<boolean>();
  let reply = "";
  const socket = await Bun.connect({
    hostname: host,
    port,
    // The test certificate does not name the outside address; the server is what is tested.
    ...(tls ? { tls: { rejectUnauthorized: false } } : {}),
    socket: {
      // Bun drops what a TLS socket is given before its handshake is over.
      handshake(s) {
        s.write(encodeCommand(["PING"]));
      },
      data(_s, chunk) {
        reply += Buffer.from(chunk).toString("latin1");
      },
      close() {
        resolve(true);
      },
    },
  });
  if (!tls) socket.write(encodeCommand(["PING"]));
  const timer = setTimeout(() => resolve(false), 1000);
  const closed = await promise;
  clearTimeout(timer);
  socket.end();
  return { reply, closed };
}

/** The same PING from `host` against both servers started with `args`; asserts the same outcome. */
async function sameFrom(host: string, args: string[]): Promise<{ reply: string; closed: boolean }> {
  await using redis = await startRedis(args);
  await using redbun = await startRedbun(args);
  const [want, got] = await Promise.all([pingFrom(host, redis.port), pingFrom(host, redbun.port)]);
  expect(got).toEqual(want);
  return got;
}

const ANY_ADDRESS = ["--bind", "*", "-::*"];

test.skipIf(external === null)("default bind, no password: a remote peer is DENIED and disconnected", async () => {
  const { reply, closed } = await sameFrom(external!, ANY_ADDRESS);
  expect(reply.startsWith("-DENIED Redis is running in protected mode")).toBe(true);
  expect(reply.endsWith("\r\n")).toBe(true);
  expect(closed).toBe(true);
});

test.skipIf(external === null)("an explicit bind does not lift protected mode in 7.0", async () => {
  const { reply } = await sameFrom(external!, ["--bind", "0.0.0.0"]);
  expect(reply.startsWith("-DENIED ")).toBe(true);
});

test.skipIf(external === null)("loopback peers, a password, or protected-mode no let a client in", async () => {
  expect((await sameFrom("127.0.0.1", ANY_ADDRESS)).reply).toBe("+PONG\r\n");
  expect((await sameFrom(external!, [...ANY_ADDRESS, "--protected-mode", "no"])).reply).toBe("+PONG\r\n");
  const withPassword = await sameFrom(external!, [...ANY_ADDRESS, "--requirepass", "pw"]);
  expect(withPassword).toEqual({ reply: "-NOAUTH Authentication required.\r\n", closed: false });
});

test.skipIf(external === null)("CONFIG SET protected-mode no applies to the next connections", async () => {
  await using redis = await startRedis(ANY_ADDRESS);
  await using redbun = await startRedbun(ANY_ADDRESS);
  for (const port of [redis.port, redbun.port]) {
    expect((await pingFrom(external!, port)).closed).toBe(true);
    const set = Bun.spawnSync(["redis-cli", "-p", String(port), "CONFIG", "SET", "protected-mode", "no"]);
    expect(set.stdout.toString()).toBe("OK\n");
    expect(await pingFrom(external!, port)).toEqual({ reply: "+PONG\r\n", closed: false });
  }
});

test.skipIf(external === null)("a TLS client from outside is DENIED after its handshake", async () => {
  using certs = makeCerts();
  const tlsPorts = [freePort(), freePort()];
  const args = (port: number) => [...ANY_ADDRESS, ...tlsArgs(certs, port, ["--tls-auth-clients", "no"])];
  await using _redis = await startRedis(args(tlsPorts[0]!));
  await using redbun = await startRedbun(args(tlsPorts[1]!));
  const [want, got] = await Promise.all(tlsPorts.map((port) => pingFrom(external!, port, true)));
  expect(want!.reply.startsWith("-DENIED ")).toBe(true);
  expect(got).toEqual(want!);
  expect((await pingFrom("127.0.0.1", redbun.port)).reply).toBe("+PONG\r\n");
});
