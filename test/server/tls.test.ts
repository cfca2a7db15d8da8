// TLS on tls-port, side by side with redis-server 7.0 given the same directives: redis-cli
// --tls with and without a client certificate under each tls-auth-clients mode,
// tls-protocols, an encrypted key, a CA directory, TLS-only servers (port 0), and the
// start-up errors for missing or broken files.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { RespConn, freePort, startRedbun, startRedis, type ServerProcess } from "../oracle/harness.ts";
import { KEY_PASSPHRASE, makeCerts, startTlsOnly, tlsArgs, tlsCall, trustedClient, type Certs } from "./tls-certs.ts";
import { startupFailure } from "./net-helpers.ts";

let certs: Certs;

beforeAll(() => {
  certs = makeCerts();
});

afterAll(() => {
  certs[Symbol.dispose]();
});

interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function run(command: string[], stdin = ""): Promise<CliResult> {
  const proc = Bun.spawn(command, { stdin: new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { exitCode: await proc.exited, stdout, stderr };
}

/** redis-cli --tls against tls-port, presenting `pair` ([cert, key]) if given. */
function cliTls(port: number, pair: [string, string] | null, ...args: string[]): Promise<CliResult> {
  const identity = pair === null ? [] : ["--cert", pair[0], "--key", pair[1]];
  return run(["redis-cli", "-p", String(port), "--tls", "--cacert", certs.caCert, ...identity, ...args]);
}

/** Both servers with a TLS listener besides their plain port; the TLS ports. */
async function startBoth(extra: string[]): Promise<{ ports: [number, number]; servers: [ServerProcess, ServerProcess] }> {
  const ports: [number, number] = [freePort(), freePort()];
  const servers = await Promise.all([startRedis(tlsArgs(certs, ports[0], extra)), startRedbun(tlsArgs(certs, ports[1], extra))]);
  return { ports, servers };
}

/**
 * The same redis-cli run against both; asserts the same outcome and returns it. A refused
 * handshake is compared by outcome only: whether redis-cli then reads "reset by peer",
 * "server closed the connection" or dies of SIGPIPE depends on when each server's TCP
 * close lands, not on what it decided.
 */
async function sameCli(ports: [number, number], pair: [string, string] | null, ...args: string[]): Promise<CliResult> {
  const [redis, redbun] = await Promise.all(ports.map((p) => cliTls(p, pair, ...args)));
  if (redis!.exitCode !== 0) {
    expect(redbun!.exitCode).not.toBe(0);
    expect(redbun!.stdout).toBe(redis!.stdout);
  } else {
    expect(redbun).toEqual(redis!);
  }
  return redbun!;
}

/** The "Error accepting a client connection" lines of a log file, once there are `count` of them. */
async function acceptErrors(logfile: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 10000;
  for (;;) {
    const text = await Bun.file(logfile).text().catch(() => "");
    const lines = text.split("\n").filter((l) => l.includes("Error accepting a client connection"));
    // Redis adds " (conn: fd=N)" to some lines, depending on when the failure is seen.
    if (lines.length >= count || Date.now() > deadline) return lines.map((l) => l.replace(/^.* # /, "").replace(/ \(conn: fd=\d+\)$/, ""));
    await Bun.sleep(30);
  }
}

test("failed handshakes are logged with OpenSSL's words, as Redis logs them", async () => {
  const logs = [join(certs.dir, "redis.log"), join(certs.dir, "redbun.log")];
  const ports: [number, number] = [freePort(), freePort()];
  await using _redis = await startRedis([...tlsArgs(certs, ports[0]), "--logfile", logs[0]!]);
  await using _redbun = await startRedbun([...tlsArgs(certs, ports[1]), "--logfile", logs[1]!]);
  await sameCli(ports, null, "PING");
  await sameCli(ports, [certs.untrustedCert, certs.untrustedKey], "PING");
  // A plain client on the TLS port, and a TLS version the server does not take.
  await Promise.all(ports.map((p) => run(["redis-cli", "-p", String(p), "PING"])));
  await Promise.all(ports.map((p) => run(["openssl", "s_client", "-connect", `127.0.0.1:${p}`, "-tls1_1"])));
  const [want, got] = await Promise.all(logs.map((file) => acceptErrors(file, 4)));
  expect(want).toHaveLength(4);
  expect(got).toEqual(want!);
});

describe("tls-auth-clients", () => {
  test("yes (the default): a client without a certificate, or with an untrusted one, is refused", async () => {
    const { ports, servers } = await startBoth([]);
    await using _redis = servers[0];
    await using _redbun = servers[1];
    expect((await sameCli(ports, [certs.clientCert, certs.clientKey], "PING")).stdout).toBe("PONG\n");
    const bare = await sameCli(ports, null, "PING");
    expect(bare.exitCode).not.toBe(0);
    expect(bare.stdout).toBe("");
    const untrusted = await sameCli(ports, [certs.untrustedCert, certs.untrustedKey], "PING");
    expect(untrusted.exitCode).not.toBe(0);
    // The same refusal over a RESP connection of our own.
    await expect(tlsCall(ports[1], { ca: certs.caCert }, "PING")).rejects.toThrow();
  });

  test("optional: no certificate is fine, an untrusted one is refused", async () => {
    const { ports, servers } = await startBoth(["--tls-auth-clients", "optional"]);
    await using _redis = servers[0];
    await using _redbun = servers[1];
    expect((await sameCli(ports, null, "PING")).stdout).toBe("PONG\n");
    expect((await sameCli(ports, [certs.clientCert, certs.clientKey], "PING")).stdout).toBe("PONG\n");
    const untrusted = await sameCli(ports, [certs.untrustedCert, certs.untrustedKey], "PING");
    expect(untrusted.exitCode).not.toBe(0);
    expect(untrusted.stdout).toBe("");
  });

  test("no: certificates are not asked for, so any client gets in", async () => {
    const { ports, servers } = await startBoth(["--tls-auth-clients", "no"]);
    await using _redis = servers[0];
    await using _redbun = servers[1];
    expect((await sameCli(ports, null, "PING")).stdout).toBe("PONG\n");
    expect((await sameCli(ports, [certs.untrustedCert, certs.untrustedKey], "PING")).stdout).toBe("PONG\n");
  });
});

test("TLS clients are listed with their TCP addresses, and replies match byte for byte", async () => {
  const { ports, servers } = await startBoth([]);
  await using _redis = servers[0];
  await using redbun = servers[1];
  const client = trustedClient(certs);
  for (const args of [["SET", "k", "v"], ["GET", "k"], ["INCR", "k"], ["LPUSH", "k", "x"], ["ECHO", "over TLS"]]) {
    const [want, got] = await Promise.all(ports.map((p) => tlsCall(p, client, ...args)));
    expect(got).toBe(want!);
  }
  const list = await tlsCall(ports[1], client, "CLIENT", "INFO");
  expect(list).toContain(`laddr=127.0.0.1:${ports[1]} `);
  expect(list).toContain(" flags=N ");
  expect(redbun.port).not.toBe(ports[1]);
});

test("tls-protocols TLSv1.2 turns TLS 1.3 away, as Redis does", async () => {
  const { ports, servers } = await startBoth(["--tls-protocols", "TLSv1.2"]);
  await using _redis = servers[0];
  await using _redbun = servers[1];
  for (const [version, ok] of [["-tls1_2", true], ["-tls1_3", false]] as const) {
    const results = await Promise.all(
      ports.map((p) =>
        run(["openssl", "s_client", "-connect", `127.0.0.1:${p}`, version, "-CAfile", certs.caCert, "-cert", certs.clientCert, "-key", certs.clientKey]),
      ),
    );
    for (const r of results) expect(r.exitCode === 0).toBe(ok);
  }
});

test("tls-key-file-pass opens an encrypted key; tls-ca-cert-dir holds the CA", async () => {
  const caDir = join(certs.dir, "ca-dir");
  mkdirSync(caDir, { recursive: true });
  copyFileSync(certs.caCert, join(caDir, "ca.pem"));
  // OpenSSL finds CA certificates in a directory by their hashed names.
  expect((await run(["openssl", "rehash", caDir])).exitCode).toBe(0);
  const extra = ["--tls-key-file", certs.serverKeyEncrypted, "--tls-key-file-pass", KEY_PASSPHRASE, "--tls-ca-cert-file", "", "--tls-ca-cert-dir", caDir];
  const { ports, servers } = await startBoth(extra);
  await using _redis = servers[0];
  await using _redbun = servers[1];
  expect((await sameCli(ports, [certs.clientCert, certs.clientKey], "PING")).stdout).toBe("PONG\n");
  expect((await sameCli(ports, [certs.untrustedCert, certs.untrustedKey], "PING")).exitCode).not.toBe(0);
});

test("port 0 listens on tls-port only; INFO tcp_port names the TLS port", async () => {
  const client = trustedClient(certs);
  const tlsPorts = [freePort(), freePort()];
  await using redis = await startTlsOnly("redis", tlsPorts[0]!, client, ["--port", "0", ...tlsArgs(certs, tlsPorts[0]!)]);
  await using redbun = await startTlsOnly("redbun", tlsPorts[1]!, client, ["--port", "0", ...tlsArgs(certs, tlsPorts[1]!)]);
  for (const server of [redis, redbun]) {
    const info = await tlsCall(server.tlsPort, client, "INFO", "server");
    expect(info).toContain(`\r\ntcp_port:${server.tlsPort}\r\n`);
  }
});

/** A TLS-only server that refuses to start: its exit code and the TLS lines it logged. */
async function failedStart(kind: "redis" | "redbun", args: string[]): Promise<[number, string[]]> {
  const [code, lines] = await startupFailure(kind, ["--port", "0", ...args]);
  return [code, lines.filter((line) => /^(Failed|No tls|Either|Invalid)/.test(line))];
}

describe("start-up errors, as redis-server logs them", () => {
  const cases: [string, (c: Certs) => string[]][] = [
    ["a missing certificate", (c) => ["--tls-cert-file", join(c.dir, "nope.crt")]],
    ["a certificate that is not PEM", (c) => ["--tls-cert-file", join(c.dir, "server.ext")]],
    ["a missing key", (c) => ["--tls-key-file", join(c.dir, "nope.key")]],
    ["a key that is not a key", (c) => ["--tls-key-file", join(c.dir, "server.ext")]],
    ["a key for another certificate", (c) => ["--tls-key-file", c.clientKey]],
    ["a missing CA file", (c) => ["--tls-ca-cert-file", join(c.dir, "nope.crt")]],
    ["no CA while clients must authenticate", () => ["--tls-ca-cert-file", ""]],
    ["no certificate", () => ["--tls-cert-file", ""]],
    ["no key", () => ["--tls-key-file", ""]],
    ["an unknown protocol", () => ["--tls-protocols", "TLSv1.2 TLSv1.4"]],
    ["unknown ciphers", () => ["--tls-ciphers", "NO-SUCH-CIPHER"]],
    ["missing DH parameters", (c) => ["--tls-dh-params-file", join(c.dir, "nope.pem")]],
    ["DH parameters that are not", (c) => ["--tls-dh-params-file", c.caCert]],
    ["unknown TLS 1.3 suites", () => ["--tls-ciphersuites", "TLS_NO_SUCH_SUITE"]],
  ];
  for (const [name, override] of cases) {
    test(name, async () => {
      const args = tlsArgs(certs, freePort(), override(certs));
      const [redis, redbun] = await Promise.all([failedStart("redis", args), failedStart("redbun", args)]);
      expect(redis[0]).toBe(1);
      expect(redis[1].length).toBeGreaterThan(0);
      expect(redbun).toEqual(redis);
    });
  }
});

test("with tls-cluster, MIGRATE connects to its target over TLS, both ways", async () => {
  const { ports, servers } = await startBoth(["--tls-cluster", "yes"]);
  const [redis, redbun] = servers;
  await using _redis = redis;
  await using _redbun = redbun;
  const conns = await Promise.all(servers.map((s) => RespConn.connect(s.port)));
  try {
    const [toRedis, toRedbun] = conns as [RespConn, RespConn];
    expect(await toRedbun.call("SET", "from-redbun", "v1")).toBe("+OK\r\n");
    expect(await toRedbun.call("MIGRATE", "127.0.0.1", String(ports[0]), "from-redbun", "0", "5000")).toBe("+OK\r\n");
    expect(await toRedis.call("GET", "from-redbun")).toBe("$2\r\nv1\r\n");
    expect(await toRedis.call("SET", "from-redis", "v2")).toBe("+OK\r\n");
    expect(await toRedis.call("MIGRATE", "127.0.0.1", String(ports[1]), "from-redis", "0", "5000")).toBe("+OK\r\n");
    expect(await toRedbun.call("GET", "from-redis")).toBe("$2\r\nv2\r\n");
    // A target's plain port does not speak TLS: both fail the same way.
    await Promise.all(conns.map((c) => c.call("SET", "k", "v")));
    const [want, got] = await Promise.all([
      toRedis.call("MIGRATE", "127.0.0.1", String(redbun.port), "k", "0", "1000"),
      toRedbun.call("MIGRATE", "127.0.0.1", String(redis.port), "k", "0", "1000"),
    ]);
    expect(want.startsWith("-IOERR")).toBe(true);
    expect(got).toBe(want);
  } finally {
    for (const c of conns) c.close();
  }
});
