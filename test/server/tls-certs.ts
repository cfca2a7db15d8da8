// Throwaway TLS material for the tests, made with the openssl command line in a temp dir: a
// CA, a server certificate for localhost/127.0.0.1/::1 and a client certificate signed by it,
// a self-signed client certificate nobody trusts, and the server key encrypted with a
// passphrase. Also a RESP call over TLS and a server started with TLS only.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { REPO_ROOT, encodeCommand, replyEnd } from "../oracle/harness.ts";

export interface Certs {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** serverKey encrypted with KEY_PASSPHRASE. */
  readonly serverKeyEncrypted: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** Self-signed: fails verification against caCert. */
  readonly untrustedCert: string;
  readonly untrustedKey: string;
  [Symbol.dispose](): void;
}

export const KEY_PASSPHRASE = "s3cret pass";

function openssl(dir: string, args: string[]): void {
  const run = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "ignore", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${run.stderr.toString()}`);
}

/** A certificate for `cn` signed by the CA in `dir`, with `extensions` (subjectAltName ...). */
function signed(dir: string, name: string, cn: string, extensions: string): void {
  openssl(dir, ["req", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`]);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`, "-days", "2", "-extfile", `${name}.ext`]);
}

export function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), "redbun-tls-"));
  openssl(dir, ["req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=redbun test CA"]);
  signed(dir, "server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n");
  signed(dir, "client", "client", "extendedKeyUsage=clientAuth,serverAuth\n");
  openssl(dir, ["req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", "untrusted.key", "-out", "untrusted.crt", "-days", "2", "-subj", "/CN=untrusted"]);
  openssl(dir, ["pkey", "-in", "server.key", "-out", "server-enc.key", "-aes256", "-passout", `pass:${KEY_PASSPHRASE}`]);
  const at = (file: string) => join(dir, file);
  return {
    dir,
    caCert: at("ca.crt"),
    serverCert: at("server.crt"),
    serverKey: at("server.key"),
    serverKeyEncrypted: at("server-enc.key"),
    clientCert: at("client.crt"),
    clientKey: at("client.key"),
    untrustedCert: at("untrusted.crt"),
    untrustedKey: at("untrusted.key"),
    [Symbol.dispose]() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The directives for a TLS listener on `tlsPort` with these certificates. */
export function tlsArgs(certs: Certs, tlsPort: number, extra: string[] = []): string[] {
  return ["--tls-port", String(tlsPort), "--tls-cert-file", certs.serverCert, "--tls-key-file", certs.serverKey, "--tls-ca-cert-file", certs.caCert, ...extra];
}

/** What a client presents: the CA it trusts, and its own pair if any. */
export interface ClientTls {
  ca: string;
  cert?: string;
  key?: string;
}

export function trustedClient(certs: Certs): ClientTls {
  return { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey };
}

/**
 * Sends one command over a fresh TLS connection and resolves with the raw reply, or rejects
 * when the connection fails or closes first (a refused certificate).
 */
export async function tlsCall(port: number, client: ClientTls, ...args: string[]): Promise<string> {
  const { promise, resolve, reject } = Promise.withResolvers<string>();
  // A refused connection rejects Bun.connect itself, before anyone awaits `promise`.
  promise.catch(() => {});
  let received = Buffer.alloc(0);
  const tls = {
    ca: Bun.file(client.ca),
    ...(client.cert !== undefined ? { cert: Bun.file(client.cert), key: Bun.file(client.key!) } : {}),
  };
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    tls,
    socket: {
      // Bun drops what a TLS socket is given before its handshake is over.
      handshake(s) {
        s.write(encodeCommand(args));
      },
      data(_s, chunk) {
        received = Buffer.concat([received, chunk]);
        if (replyEnd(received, 0) > 0) resolve(received.toString("latin1"));
      },
      close() {
        reject(new Error("connection closed before a reply"));
      },
      error(_s, e) {
        reject(e);
      },
    },
  });
  try {
    return await promise;
  } finally {
    socket.end();
  }
}

/** A server process reachable only over TLS (and perhaps a unix socket), stopped by `await using`. */
export class TlsOnlyServer {
  constructor(
    readonly proc: Subprocess,
    readonly tlsPort: number,
  ) {}

  async [Symbol.asyncDispose](): Promise<void> {
    this.proc.kill("SIGKILL");
    await this.proc.exited;
  }
}

/** Starts redis-server or redbun with `args` and waits until PING over TLS answers. */
export async function startTlsOnly(kind: "redis" | "redbun", tlsPort: number, client: ClientTls, args: string[]): Promise<TlsOnlyServer> {
  const command = kind === "redis" ? ["redis-server"] : ["bun", "src/main.ts"];
  const proc = Bun.spawn([...command, "--save", "", "--appendonly", "no", ...args], { cwd: REPO_ROOT, stdout: "ignore", stderr: "inherit" });
  const deadline = Date.now() + 15000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${kind} exited with ${proc.exitCode}`);
    if ((await tlsCall(tlsPort, client, "PING").catch(() => "")) === "+PONG\r\n") return new TlsOnlyServer(proc, tlsPort);
    if (Date.now() > deadline) throw new Error(`${kind} did not answer over TLS on ${tlsPort}`);
    await Bun.sleep(30);
  }
}
