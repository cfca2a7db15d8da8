// TLS as Redis configures it (tls.c's tlsConfigure): the server side of the tls-port
// listener and the client side of the replication and cluster bus links, both built from the
// tls-* directives once at start-up. A missing or broken file stops the start with the line
// Redis logs, OpenSSL's error text included, so that scripts reading the log see no change.

import { readFileSync, readdirSync } from "node:fs";
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { constants as osConstants } from "node:os";
import { resolve as resolvePath } from "node:path";
import { createSecureContext } from "node:tls";
import type { TLSOptions } from "bun";
import { strerror, type Config } from "../config/params.ts";
import type { Logger } from "../log/log.ts";

/** A TLS set-up Redis refuses to start with; the message is the line it logs. */
export class TlsConfigError extends Error {}

/** tls-auth-clients: whether the TLS listener asks for a client certificate, and needs one. */
export type ClientAuth = "yes" | "no" | "optional";

/** The loaded certificates and keys, ready to hand to Bun.listen and Bun.connect. */
export interface TlsContext {
  /** For the tls-port listener (and the cluster bus listener with tls-cluster). */
  readonly server: TLSOptions;
  /** For the links this server opens: to its master, to the other cluster nodes. */
  readonly client: TLSOptions;
  readonly authClients: ClientAuth;
}

/** Whether anything uses TLS, which is when Redis configures it (and can fail to). */
export function tlsWanted(config: Config): boolean {
  return config.tlsPort !== 0 || config.tlsReplication || config.tlsCluster;
}

/**
 * OpenSSL's SSL_OP_NO_* bits, which Bun passes through `secureOptions`: Bun has no
 * min/max version options, so tls-protocols turns every version it leaves out into one.
 */
const NO_PROTOCOL_BITS: Record<string, number> = {
  tlsv1: 0x04000000,
  "tlsv1.1": 0x10000000,
  "tlsv1.2": 0x08000000,
  "tlsv1.3": 0x20000000,
};
/** SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3, which Redis always sets. */
const NO_SSL_BITS = 0x01000000 | 0x02000000;
/** SSL_OP_CIPHER_SERVER_PREFERENCE, for tls-prefer-server-ciphers. */
const SERVER_PREFERENCE_BIT = 0x00400000;
/** Redis's default when tls-protocols is empty. */
const DEFAULT_PROTOCOLS = "TLSv1.2 TLSv1.3";

/** The TLS 1.3 suites OpenSSL knows; tls-ciphersuites may only name these. */
const TLS13_SUITES = new Set([
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
  "TLS_AES_128_CCM_SHA256",
  "TLS_AES_128_CCM_8_SHA256",
]);

/**
 * Redis's tlsConfigure, in its order of checks: cert and key named, a CA when anything
 * verifies peers, valid protocols, then the files themselves. Throws TlsConfigError.
 */
export function configureTls(config: Config): TlsContext {
  if (config.tlsCertFile === "") throw new TlsConfigError("No tls-cert-file configured!");
  if (config.tlsKeyFile === "") throw new TlsConfigError("No tls-key-file configured!");
  const authClients = config.tlsAuthClients as ClientAuth;
  const verifiesPeers = authClients !== "no" || config.tlsCluster || config.tlsReplication;
  if (verifiesPeers && config.tlsCaCertFile === "" && config.tlsCaCertDir === "") {
    throw new TlsConfigError(
      "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!",
    );
  }
  const secureOptions = protocolOptions(config.tlsProtocols);
  const serverPair = loadKeyPair(config, config.tlsCertFile, config.tlsKeyFile, config.tlsKeyFilePass);
  const ca = loadCa(config);
  const dhParams = checkDhParams(config);
  checkCiphers(config);
  // Redis's replica and bus links present tls-client-cert-file when set, else the server's pair.
  const clientPair =
    config.tlsClientCertFile !== ""
      ? loadKeyPair(config, config.tlsClientCertFile, config.tlsClientKeyFile, config.tlsClientKeyFilePass)
      : serverPair;
  const common: TLSOptions = { ca, secureOptions, ...(config.tlsCiphers !== "" ? { ciphers: config.tlsCiphers } : {}) };
  const server: TLSOptions = {
    ...common,
    ...serverPair,
    secureOptions: config.tlsPreferServerCiphers ? secureOptions | SERVER_PREFERENCE_BIT : secureOptions,
    // "optional" asks for a certificate but lets a client without one in; a client whose
    // certificate does not verify is turned away after the handshake (see verifiedPeer).
    requestCert: authClients !== "no",
    rejectUnauthorized: authClients === "yes",
    ...(dhParams !== "" ? { dhParamsFile: dhParams } : {}),
  };
  // Redis checks the master's and the other nodes' chains, not their names, which cluster
  // nodes announce as bare IPs; the links check `authorized` after the handshake instead.
  const client: TLSOptions = { ...common, ...clientPair, rejectUnauthorized: false };
  return { server, client, authClients };
}

/**
 * The client side for an outgoing link (tls-replication, tls-cluster). A server that turned
 * those on by CONFIG SET after start-up loads the files now, as Redis reconfigures TLS then;
 * null when they fail to load, the reason logged.
 */
export function clientTlsOptions(server: { readonly config: Config; tls: TlsContext | null; readonly log: Logger }): TLSOptions | null {
  if (server.tls === null) {
    try {
      server.tls = configureTls(server.config);
    } catch (e) {
      server.log.warning(`Failed to configure TLS: ${(e as Error).message}`);
      return null;
    }
  }
  return server.tls.client;
}

/**
 * Whether a TLS client may stay after its handshake: with tls-auth-clients yes its
 * certificate must verify; with optional, a client that sent one must have sent one that
 * verifies (Redis's SSL_VERIFY_PEER without FAIL_IF_NO_PEER_CERT); with no, nothing is asked.
 */
export function verifiedPeer(auth: ClientAuth, authorized: boolean, sentCertificate: boolean): boolean {
  if (auth === "yes") return authorized;
  return auth === "no" || authorized || !sentCertificate;
}

/**
 * What Redis logs after "Error accepting a client connection: " for a failed handshake, in
 * OpenSSL 3's words where Bun's TLS library (BoringSSL) names the same failure.
 */
export function acceptErrorText(error: Error | null): string {
  const message = error?.message ?? "";
  if (message.includes("WRONG_VERSION_NUMBER")) return "error:0A00010B:SSL routines::wrong version number";
  if (message.includes("UNSUPPORTED_PROTOCOL")) return "error:0A000102:SSL routines::unsupported protocol";
  if (message.includes("PEER_DID_NOT_RETURN_A_CERTIFICATE")) return "error:0A0000C7:SSL routines::peer did not return a certificate";
  // Anything else that is not a TLS library error is a certificate that did not verify.
  return message.includes("SSL routines") ? message : "error:0A000086:SSL routines::certificate verify failed";
}

/**
 * Whether the certificate a link's peer (a master, a cluster node) sent verifies against
 * the CA. Bun's `authorized` also wants the name connected to among the certificate's, which
 * Redis does not check: a node known by an IP its certificate does not list is fine.
 */
export function chainVerified(authorized: boolean, error: Error | null): boolean {
  return authorized || (error as NodeJS.ErrnoException | null)?.code === "ERR_TLS_CERT_ALTNAME_INVALID";
}

/** tls-protocols as SSL_OP_NO_* bits for the versions not named. */
function protocolOptions(setting: string): number {
  const named = new Set<string>();
  for (const word of (setting === "" ? DEFAULT_PROTOCOLS : setting).split(" ")) {
    if (word === "") continue;
    const version = word.toLowerCase();
    if (!(version in NO_PROTOCOL_BITS)) {
      throw new TlsConfigError("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.");
    }
    named.add(version);
  }
  let bits = NO_SSL_BITS;
  for (const [version, bit] of Object.entries(NO_PROTOCOL_BITS)) if (!named.has(version)) bits |= bit;
  return bits;
}

/** tls-dh-params-file: the path Bun is to read, once it reads as DH parameters ("" when unset). */
function checkDhParams(config: Config): string {
  const file = config.tlsDhParamsFile;
  if (file === "") return "";
  const path = resolvePath(config.dir, file);
  let text: string;
  try {
    text = readFileSync(path, "latin1");
  } catch (e) {
    throw new TlsConfigError(`Failed to load ${file}: ${strerror((e as NodeJS.ErrnoException).code)}`);
  }
  if (!text.includes("-----BEGIN DH PARAMETERS-----")) throw new TlsConfigError(`${file}: failed to read DH params.`);
  return path;
}

/**
 * tls-ciphers is handed to Bun, after a trial context says whether it names any cipher;
 * tls-ciphersuites can only be checked, as Bun's TLS library fixes the TLS 1.3 suites.
 */
function checkCiphers(config: Config): void {
  const ciphers = config.tlsCiphers;
  if (ciphers !== "") {
    try {
      createSecureContext({ ciphers });
    } catch {
      throw new TlsConfigError(`Failed to configure ciphers: ${ciphers}`);
    }
  }
  const suites = config.tlsCiphersuites;
  if (suites === "") return;
  for (const name of suites.split(":")) {
    if (!TLS13_SUITES.has(name)) throw new TlsConfigError(`Failed to configure ciphersuites: ${suites}`);
  }
}

/** A certificate chain and its key, checked to match, as SSL_CTX_use_PrivateKey_file does. */
function loadKeyPair(config: Config, certFile: string, keyFile: string, passphrase: string): { cert: string; key: string; passphrase?: string } {
  const cert = readPem(config, certFile, (err) => `Failed to load certificate: ${certFile}: ${err}`);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch {
    throw new TlsConfigError(`Failed to load certificate: ${certFile}: error:0480006C:PEM routines::no start line`);
  }
  const key = readPem(config, keyFile, (err) => `Failed to load private key: ${keyFile}: ${err}`);
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey({ key, ...(passphrase !== "" ? { passphrase } : {}) });
  } catch {
    throw new TlsConfigError(`Failed to load private key: ${keyFile}: error:1E08010C:DECODER routines::unsupported`);
  }
  if (!leaf.checkPrivateKey(keyObject)) {
    throw new TlsConfigError(`Failed to load private key: ${keyFile}: error:05800074:x509 certificate routines::key values mismatch`);
  }
  return passphrase !== "" ? { cert, key, passphrase } : { cert, key };
}

/** tls-ca-cert-file, plus every certificate in tls-ca-cert-dir. */
function loadCa(config: Config): string[] | undefined {
  const failure = (err: string) => `Failed to configure CA certificate(s) file/directory: ${err}`;
  const ca: string[] = [];
  if (config.tlsCaCertFile !== "") ca.push(readPem(config, config.tlsCaCertFile, failure));
  if (config.tlsCaCertDir !== "") {
    const dir = resolvePath(config.dir, config.tlsCaCertDir);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      throw new TlsConfigError(failure(systemError(e)));
    }
    // OpenSSL looks certificates up by their hashed names; a directory holding other files
    // (a README, a key) is fine, so only files that read as certificates count.
    for (const name of names.sort()) {
      try {
        const pem = readFileSync(resolvePath(dir, name), "latin1");
        new X509Certificate(pem);
        ca.push(pem);
      } catch {
        continue;
      }
    }
  }
  return ca.length > 0 ? ca : undefined;
}

/** A PEM file's text, relative names taken from `dir` (Redis has chdir()ed there by now). */
function readPem(config: Config, file: string, failure: (err: string) => string): string {
  try {
    return readFileSync(resolvePath(config.dir, file), "latin1");
  } catch (e) {
    throw new TlsConfigError(failure(systemError(e)));
  }
}

/** OpenSSL 3's text for a failed system call: "error:80000002:system library::No such file or directory". */
function systemError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code ?? "";
  const errno = (osConstants.errno as Record<string, number>)[code] ?? 0;
  const packed = ((0x80000000 | errno) >>> 0).toString(16).toUpperCase().padStart(8, "0");
  return `error:${packed}:system library::${strerror(code)}`;
}
