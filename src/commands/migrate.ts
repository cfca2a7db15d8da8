// MIGRATE (Redis 7.0's cluster.c migrateCommand): move keys to another server by sending it
// one RESTORE per key (RESTORE-ASKING in cluster mode) with the key's DUMP payload and
// remaining TTL, then delete the keys here unless COPY. `redis-cli --cluster reshard` moves
// slots with it.
//
// Redis transfers with blocking socket I/O: the whole server waits for the target. Here the
// event loop must keep serving everyone else, so the client that sent MIGRATE blocks
// (blocking.ts, like WAIT: answered by an event, not by keys) until the target's replies are
// in, and other clients carry on meanwhile.
//
// - The payloads are taken when the command runs, so the target gets the keys as they were
//   then, as Redis's atomic MIGRATE would send them. Until the transfer ends, commands that
//   touch one of its keys wait (server/key-holds.ts), as they would behind Redis's blocking
//   MIGRATE: they then find the key gone (and in cluster mode are redirected with ASK). A key
//   that changed anyway (expiry, eviction, FLUSHALL) is deleted only if its DUMP is still
//   the bytes sent. The deletions propagate as one DEL of the deleted keys, as Redis
//   rewrites the MIGRATE it propagates (replaceClientCommandVector).
// - Connections are cached per host:port, 64 at most, and closed once unused for more than
//   10 s (migrateGetSocket, migrateCloseTimedoutSockets). Transfers to one target take
//   turns on its connection, so each reads its own replies and the target's selected
//   database is known (SELECT is sent only when it changes).
// - Failures read as Redis's blocking connect and I/O make them read: a host that does not
//   resolve is "connecting to the client"; a refused connection is, to Redis, a connect
//   that succeeded and a write that failed, so it is "writing"; a connect that does not
//   complete leaves Redis's write waiting too, so it fails "writing" after twice the
//   timeout. A socket error other than a timeout before the first reply retries once on a
//   new connection, as Redis does for a cached connection the target closed.
// - Inside MULTI/EXEC a client cannot block, and Redis's synchronous transfer has no
//   equivalent on a non-blocking event loop: MIGRATE there answers an error (below).
// - CLIENT UNBLOCK can end the wait, which Redis cannot (its client is never blocked): the
//   client gets the read error, and the transfer's outcome is ignored, so the keys stay
//   here, as after a timeout in Redis. A client that disconnects does not stop its
//   transfer: the acknowledged keys are deleted, as Redis would have completed the command.

import type { TLSOptions } from "bun";
import { transport, type Socket } from "../transport/index.ts";
import type { Client } from "../server/client.ts";
import type { Db } from "../store/db.ts";
import type { BlockedWait } from "../server/blocking.ts";
import type { ReplyWriter } from "../resp/writer.ts";
import type { Server } from "../server/server.ts";
import { chainVerified, clientTlsOptions } from "../server/tls.ts";
import type { Argv } from "../resp/parser.ts";
import type { PropArg } from "../server/propagate.ts";
import { type CommandDef } from "./table.ts";
import { OK } from "../resp/writer.ts";
import { ERR } from "../resp/errors.ts";
import { parseInt64Arg } from "./args.ts";
import { dumpView } from "./dump.ts";
import { NOTIFY } from "../server/notify.ts";
import { encodeCommands } from "../resp/command-encoder.ts";

/** Redis's MIGRATE_SOCKET_CACHE_ITEMS and MIGRATE_SOCKET_CACHE_TTL. */
const CACHE_ITEMS = 64;
const CACHE_TTL_SEC = 10;
/** Redis reads each reply line into a 1024-byte buffer: longer lines are cut. */
const LINE_MAX_BYTES = 1023;
/** setTimeout's limit; a larger MIGRATE timeout waits this long (about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

const CONNECT_ERROR = "IOERR error or timeout connecting to the client";
const WRITE_ERROR = "IOERR error or timeout writing to target instance";
const READ_ERROR = "IOERR error or timeout reading to target instance";
const TARGET_ERROR = "ERR Target instance replied with error: ";
const KEYS_NEED_EMPTY_KEY = "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string";
const NOT_IN_MULTI = "ERR MIGRATE is not supported inside MULTI/EXEC";
const NOKEY = new TextEncoder().encode("+NOKEY\r\n");

// -----------------------------------------------------------------------------------------
// The connection to a target
// -----------------------------------------------------------------------------------------

/** What a read or a write ends with when it does not succeed. */
const CLOSED = 0;
const TIMED_OUT = 1;
type Failure = typeof CLOSED | typeof TIMED_OUT;

/** A cached connection to one target, with Redis's migrateCachedSocket state. */
class MigrateLink {
  socket: Socket<MigrateLink> | null = null;
  /** The database the target has selected on this connection; null when unknown. */
  lastDbid: string | null = null;
  /** When a transfer last took the connection, in whole seconds (server.unixtime). */
  lastUseSec = 0;
  /** Whether a transfer is using the connection now (the idle sweep leaves it alone). */
  busy = false;
  closed = false;
  /** Received bytes not yet split into lines. */
  private input: Uint8Array = new Uint8Array(0);
  private readonly lines: string[] = [];
  /** The pending readLine or write, woken by data, drain or close. */
  private waiter: (() => void) | null = null;

  /** Over TLS: whether the handshake ended with the target's chain verified; null while it runs. */
  private verified: boolean | null = null;

  constructor(readonly name: string) {}

  handshakeDone(verified: boolean): void {
    this.verified = verified;
    this.wake();
  }

  /** Waits for the TLS handshake, at most `timeoutMs`: true once the target's certificate verified. */
  async secured(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.verified === null && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.waitEvent(left))) return false;
    }
    return this.verified === true;
  }

  received(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.input.length + chunk.length);
    joined.set(this.input);
    joined.set(chunk, this.input.length);
    let from = 0;
    for (let nl = joined.indexOf(10); nl >= 0; nl = joined.indexOf(10, from)) {
      const end = nl > from && joined[nl - 1] === 13 ? nl - 1 : nl;
      this.lines.push(Buffer.from(joined.buffer, from, Math.min(end - from, LINE_MAX_BYTES)).toString("latin1"));
      from = nl + 1;
    }
    this.input = joined.slice(from);
    this.wake();
  }

  ended(): void {
    this.closed = true;
    this.socket = null;
    this.wake();
  }

  wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  /** Wait for data, drain or close, at most `timeoutMs`; false when the time ran out. */
  private waitEvent(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve(false);
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  /** The next reply line without its CRLF (Redis's connSyncReadLine). */
  async readLine(timeoutMs: number): Promise<string | Failure> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) return line;
      if (this.closed) return CLOSED;
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.waitEvent(left))) return TIMED_OUT;
    }
  }

  /** Send all of `bytes`; each wait for the socket to take more gets `timeoutMs`. */
  async write(bytes: Uint8Array, timeoutMs: number): Promise<true | Failure> {
    let sent = 0;
    while (sent < bytes.length) {
      if (this.socket === null) return CLOSED;
      const n = this.socket.write(bytes.subarray(sent));
      if (n < 0) return CLOSED;
      sent += n;
      if (sent < bytes.length && !(await this.waitEvent(timeoutMs))) return TIMED_OUT;
    }
    return true;
  }

  close(): void {
    this.socket?.end();
    this.ended();
  }
}

const LINK_HANDLERS = {
  handshake(socket: Socket<MigrateLink>, _success: boolean, error: Error | null) {
    socket.data.handshakeDone(chainVerified(socket.authorized, error));
  },
  data(socket: Socket<MigrateLink>, chunk: Uint8Array) {
    socket.data.received(chunk);
  },
  drain(socket: Socket<MigrateLink>) {
    socket.data.wake();
  },
  close(socket: Socket<MigrateLink>) {
    socket.data.ended();
  },
  error(socket: Socket<MigrateLink>) {
    socket.data.ended();
  },
};

/** Why a connection could not be had. */
const UNRESOLVED = 2;
const REFUSED = 3;
type ConnectFailure = typeof UNRESOLVED | typeof REFUSED | typeof TIMED_OUT;

/** The cached connections by "host:port" (server.migrate_cached_sockets). */
const links = new Map<string, MigrateLink>();
/** Per target, the end of the queue of transfers taking turns on its connection. */
const turns = new Map<string, Promise<void>>();
let sweepTimer: ReturnType<typeof setInterval> | null = null;

/** migrateGetSocket: the cached connection to host:port, or a new one. */
async function getLink(name: string, host: string, port: number, timeoutMs: number, tls: TLSOptions | null): Promise<MigrateLink | ConnectFailure> {
  const cached = links.get(name);
  if (cached !== undefined && !cached.closed) {
    cached.lastUseSec = unixSeconds();
    return cached;
  }
  const opened = await openLink(name, host, port, timeoutMs, tls);
  if (typeof opened === "number") return opened;
  if (links.size >= CACHE_ITEMS) dropOneIdle();
  opened.lastUseSec = unixSeconds();
  links.set(name, opened);
  if (sweepTimer === null) {
    sweepTimer = setInterval(closeTimedOutLinks, 1000);
    sweepTimer.unref();
  }
  return opened;
}

/**
 * Connect, waiting at most twice the timeout: Redis's blocking connect waits `timeout` and
 * then hands a connection still in progress to its write, which waits `timeout` more.
 */
async function openLink(name: string, host: string, port: number, timeoutMs: number, tls: TLSOptions | null): Promise<MigrateLink | ConnectFailure> {
  const link = new MigrateLink(name);
  let connecting: Promise<Socket<MigrateLink>>;
  try {
    connecting = transport.connect<MigrateLink>({ hostname: host, port, data: link, socket: LINK_HANDLERS, ...(tls !== null ? { tls } : {}) });
  } catch {
    // An empty host name or the like: what getaddrinfo refuses in Redis.
    return UNRESOLVED;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.min(2 * timeoutMs, MAX_TIMEOUT_MS));
  });
  try {
    const socket = await Promise.race([connecting, late]);
    if (socket === TIMED_OUT) {
      connecting.then((s) => s.end(), () => {});
      return TIMED_OUT;
    }
    socket.setNoDelay(true);
    link.socket = socket;
    // Bun drops what a TLS socket is given before its handshake is over. Redis's TLS
    // connect includes the handshake, so a failed one is a connect error, not a write error.
    if (tls !== null && !(await link.secured(timeoutMs))) {
      link.close();
      return UNRESOLVED;
    }
    return link;
  } catch (e) {
    return isResolveError(e) ? UNRESOLVED : REFUSED;
  } finally {
    clearTimeout(timer);
  }
}

function isResolveError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_FAIL" || code === "EAI_NONAME" || code === "EAI_SERVICE";
}

/** migrateCloseSocket: forget the connection and close it. */
function closeLink(link: MigrateLink): void {
  if (links.get(link.name) === link) links.delete(link.name);
  link.close();
}

/**
 * A cached connection's name: the server's run id, then the target as Redis names it
 * ("host:port"), so that servers embedded in one process never share a connection.
 */
function linkName(server: Server, target: string): string {
  return `${server.runId} ${target}`;
}

/** The server closes: the connections it cached close too. */
export function closeMigrateLinks(server: Server): void {
  const prefix = linkName(server, "");
  for (const link of [...links.values()]) if (link.name.startsWith(prefix)) closeLink(link);
}

/** The cache is full: make room by closing one connection no transfer is using. */
function dropOneIdle(): void {
  for (const link of links.values()) {
    if (!link.busy) return closeLink(link);
  }
}

/** migrateCloseTimedoutSockets, once a second while connections are cached. */
function closeTimedOutLinks(): void {
  const now = unixSeconds();
  for (const link of [...links.values()]) {
    if (!link.busy && now - link.lastUseSec > CACHE_TTL_SEC) closeLink(link);
  }
  if (links.size === 0 && sweepTimer !== null) {
    clearInterval(sweepTimer);
    sweepTimer = null;
  }
}

function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

// -----------------------------------------------------------------------------------------
// One migration
// -----------------------------------------------------------------------------------------

/** A key as it was sent: its name, payload and expiry (-1 for none) when the command ran. */
interface SentKey {
  name: Uint8Array;
  payload: Uint8Array;
  expireAt: number;
  ttlMs: number;
  /** Whether the target replied without an error to its RESTORE. */
  acked: boolean;
}

/** MIGRATE's request, copied out of the arguments since the transfer outlives the command. */
interface MigrateRequest {
  name: string;
  host: string;
  port: number;
  timeoutMs: number;
  /** The destination database as written in decimal (a C long may exceed a double). */
  dbid: string;
  copy: boolean;
  replace: boolean;
  username: Uint8Array | null;
  password: Uint8Array | null;
  restoreName: string;
  /** With tls-cluster, MIGRATE connects over TLS, as Redis's does; null for a plain connection. */
  tls: TLSOptions | null;
}

/** The blocked client's wait: answered once the transfer ended (Blocking.serveWait). */
class MigrateWait implements BlockedWait {
  readonly keys: readonly string[] = [];
  readonly deadlineMs = 0;
  /** Set when the transfer ended: null for +OK, else the error to answer. */
  error: string | null = null;
  done = false;
  /** Set when CLIENT UNBLOCK answered the client: the transfer's outcome is then ignored. */
  abandoned = false;

  constructor(
    readonly db: Db,
    readonly request: MigrateRequest,
    readonly sent: SentKey[],
  ) {}

  serve(c: Client, w: ReplyWriter): boolean {
    if (!this.done) return false;
    deleteMoved(c, this);
    if (this.error === null) w.addRaw(OK);
    else w.addError(this.error);
    return true;
  }

  timeoutReply(_c: Client, w: ReplyWriter): void {
    this.abandoned = true;
    w.addError(READ_ERROR);
  }
}

/**
 * Delete the keys the target acknowledged (unless COPY), those still as they were sent, and
 * queue them as one DEL to propagate, as Redis turns a MIGRATE into.
 */
function deleteMoved(c: Client, wait: MigrateWait): void {
  if (wait.request.copy) return;
  const db = wait.db;
  const server = c.server;
  const deleted: PropArg[] = ["DEL"];
  for (const key of wait.sent) {
    if (!key.acked) continue;
    const id = db.peekBytes(key.name, 0, key.name.length);
    if (id < 0 || db.getExpire(id) !== key.expireAt || !sameBytes(dumpView(c, db, id), key.payload)) continue;
    db.delete(id);
    server.notifications.notifyBytes(NOTIFY.GENERIC, "del", key.name, 0, key.name.length, db.id);
    server.dirty++;
    deleted.push(key.name);
  }
  if (deleted.length > 1 && server.propagation.active) server.propagation.add(db.id, deleted);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Run the transfer in its target's turn, then answer the client (or finish without it). */
function startTransfer(c: Client, wait: MigrateWait): void {
  const name = wait.request.name;
  const previous = turns.get(name) ?? Promise.resolve();
  const mine = previous.then(() => transfer(wait)).then(
    () => transferEnded(c, wait),
    (e: unknown) => {
      wait.error = `ERR internal error in 'migrate': ${e instanceof Error ? e.message : String(e)}`;
      transferEnded(c, wait);
    },
  );
  turns.set(name, mine);
  void mine.then(() => {
    if (turns.get(name) === mine) turns.delete(name);
  });
}

function transferEnded(c: Client, wait: MigrateWait): void {
  wait.done = true;
  const server = c.server;
  if (wait.abandoned) {
    // CLIENT UNBLOCK answered already; the keys stay, and are free again.
  } else if (server.blocking.isWaitingIn(c, wait)) {
    server.blocking.serveWait(c, wait);
  } else {
    // The client went away: the move completes all the same, as Redis's command would have.
    deleteMoved(c, wait);
    if (server.propagation.active) server.propagation.flushPending();
    server.aof?.write();
  }
  server.releaseKeys(wait.db, wait.sent.map((key) => key.name));
}

/** migrateCommand from try_again on, with at most one retry on a fresh connection. */
async function transfer(wait: MigrateWait): Promise<void> {
  let mayRetry = true;
  while (await attempt(wait, mayRetry)) mayRetry = false;
}

/** One try; true when it failed in a way Redis retries once (it is then up to the caller). */
async function attempt(wait: MigrateWait, mayRetry: boolean): Promise<boolean> {
  const request = wait.request;
  const got = await getLink(request.name, request.host, request.port, request.timeoutMs, request.tls);
  if (got === UNRESOLVED) {
    wait.error = CONNECT_ERROR;
    return false;
  }
  // Redis's connect "succeeds" on a refused or slow connection; its write then fails.
  if (got === REFUSED || got === TIMED_OUT) return failed(wait, null, WRITE_ERROR, got, mayRetry);
  const link = got;
  link.busy = true;
  try {
    return await exchange(wait, link, mayRetry);
  } finally {
    link.busy = false;
  }
}

/** Send the request on `link` and read the replies (the part of migrateCommand after connecting). */
async function exchange(wait: MigrateWait, link: MigrateLink, mayRetry: boolean): Promise<boolean> {
  const request = wait.request;
  const timeoutMs = request.timeoutMs;
  const select = link.lastDbid !== request.dbid;
  const written = await link.write(encodeRequest(wait, select), timeoutMs);
  if (written !== true) return failed(wait, link, WRITE_ERROR, written, mayRetry);
  let authReply = "";
  let selectReply = "";
  if (request.password !== null) {
    const line = await link.readLine(timeoutMs);
    if (typeof line !== "string") return failed(wait, link, READ_ERROR, line, mayRetry);
    authReply = line;
  }
  if (select) {
    const line = await link.readLine(timeoutMs);
    if (typeof line !== "string") return failed(wait, link, READ_ERROR, line, mayRetry);
    selectReply = line;
  }
  const sent = wait.sent;
  let targetError: string | null = null;
  let readFailure: Failure | null = null;
  let j = 0;
  for (; j < sent.length; j++) {
    const line = await link.readLine(timeoutMs);
    if (typeof line !== "string") {
      readFailure = line;
      break;
    }
    // An AUTH or SELECT error makes every key fail, and is the one reported.
    const error = authReply[0] === "-" ? authReply : selectReply[0] === "-" ? selectReply : line[0] === "-" ? line : null;
    if (error === null) {
      sent[j]!.acked = true;
    } else if (targetError === null) {
      link.lastDbid = null;
      targetError = error;
    }
  }
  if (readFailure !== null) {
    // Only a connection that failed before any reply is retried: nothing was restored.
    if (targetError === null && j === 0) return failed(wait, link, READ_ERROR, readFailure, mayRetry);
    closeLink(link);
    if (targetError === null) return failed(wait, null, READ_ERROR, readFailure, false);
  }
  if (targetError !== null) {
    wait.error = TARGET_ERROR + targetError.slice(1);
  } else {
    link.lastDbid = request.dbid;
    wait.error = null;
  }
  return false;
}

/**
 * Redis's socket_err: close the connection, and retry unless the time ran out or this was
 * the retry already; otherwise the error is the answer.
 */
function failed(wait: MigrateWait, link: MigrateLink | null, error: string, why: Failure | ConnectFailure, mayRetry: boolean): boolean {
  if (link !== null) closeLink(link);
  if (why !== TIMED_OUT && mayRetry) return true;
  wait.error = error;
  return false;
}

/** AUTH when asked, SELECT when the target's database differs, then one RESTORE per key. */
function encodeRequest(wait: MigrateWait, select: boolean): Uint8Array {
  const request = wait.request;
  const commands: PropArg[][] = [];
  if (request.password !== null) {
    commands.push(request.username !== null ? ["AUTH", request.username, request.password] : ["AUTH", request.password]);
  }
  if (select) commands.push(["SELECT", request.dbid]);
  for (const key of wait.sent) {
    const restore: PropArg[] = [request.restoreName, key.name, String(key.ttlMs), key.payload];
    if (request.replace) restore.push("REPLACE");
    commands.push(restore);
  }
  return encodeCommands(commands);
}

// -----------------------------------------------------------------------------------------
// The command
// -----------------------------------------------------------------------------------------

/** MIGRATE's options after the fixed arguments, filled by parseMigrateOptions. */
interface MigrateOptions {
  copy: boolean;
  replace: boolean;
  username: Uint8Array | null;
  password: Uint8Array | null;
  firstKey: number;
  keyCount: number;
}

/** COPY, REPLACE, AUTH, AUTH2, KEYS from argument 6 on, as migrateCommand parses them; null after replying. */
function parseMigrateOptions(c: Client): MigrateOptions | null {
  const argv = c.argv;
  const o: MigrateOptions = { copy: false, replace: false, username: null, password: null, firstKey: 3, keyCount: 1 };
  for (let j = 6; j < argv.count; j++) {
    const more = argv.count - 1 - j;
    if (argv.is(j, "copy")) {
      o.copy = true;
    } else if (argv.is(j, "replace")) {
      o.replace = true;
    } else if (argv.is(j, "auth")) {
      if (more < 1) return syntaxError(c);
      o.password = argv.copy(++j);
    } else if (argv.is(j, "auth2")) {
      if (more < 2) return syntaxError(c);
      o.username = argv.copy(++j);
      o.password = argv.copy(++j);
    } else if (argv.is(j, "keys")) {
      if (argv.len[3] !== 0) {
        c.w.addError(KEYS_NEED_EMPTY_KEY);
        return null;
      }
      o.firstKey = j + 1;
      o.keyCount = argv.count - j - 1;
      break;
    } else {
      return syntaxError(c);
    }
  }
  return o;
}

function syntaxError(c: Client): null {
  c.w.addErrorBytes(ERR.syntax);
  return null;
}

/**
 * The keys that exist, each with its payload and TTL as migrateCommand computes them:
 * the time left, at least 1 ms; a key whose time already ran out is left out.
 */
function snapshotKeys(c: Client, o: MigrateOptions): SentKey[] {
  const argv = c.argv;
  const db = c.db;
  // All lookups come first, as in Redis, for the keyspace hit and miss counts.
  const foundArgs: number[] = [];
  const foundIds: number[] = [];
  for (let i = o.firstKey; i < o.firstKey + o.keyCount; i++) {
    const id = db.lookupReadArg(argv, i);
    if (id < 0) continue;
    foundArgs.push(i);
    foundIds.push(id);
  }
  const nowMs = c.server.clock.nowMs;
  const sent: SentKey[] = [];
  for (let k = 0; k < foundIds.length; k++) {
    const i = foundArgs[k]!;
    const id = foundIds[k]!;
    const expireAt = db.getExpire(id);
    const ttlMs = expireAt === -1 ? 0 : Math.max(expireAt - nowMs, 1);
    if (expireAt !== -1 && expireAt < nowMs) continue;
    sent.push({ name: argv.copy(i), payload: dumpView(c, db, id).slice(), expireAt, ttlMs, acked: false });
  }
  return sent;
}

/** C's atoi, which Redis applies to the port argument: leading blanks, a sign, digits. */
function atoi(argv: Argv, i: number): number {
  const buf = argv.buf;
  let p = argv.start[i]!;
  const end = p + argv.len[i]!;
  while (p < end && (buf[p] === 32 || (buf[p]! >= 9 && buf[p]! <= 13))) p++;
  let sign = 1;
  if (p < end && (buf[p] === 45 || buf[p] === 43)) sign = buf[p++] === 45 ? -1 : 1;
  let n = 0;
  while (p < end && buf[p]! >= 48 && buf[p]! <= 57 && n < 1e12) n = n * 10 + (buf[p++]! - 48);
  return sign * n;
}

/**
 * The request for the transfer, or null after replying. A negative port is a service name
 * getaddrinfo refuses; a larger one wraps to 16 bits in the socket address, as in Redis.
 */
function buildRequest(c: Client, o: MigrateOptions, timeoutMs: number, dbid: string): MigrateRequest | null {
  const argv = c.argv;
  const host = argv.str(1);
  const port = atoi(argv, 2);
  if (port < 0) {
    c.w.addError(CONNECT_ERROR);
    return null;
  }
  return {
    name: linkName(c.server, `${host}:${argv.str(2)}`),
    host,
    port: port & 0xffff,
    timeoutMs,
    dbid,
    copy: o.copy,
    replace: o.replace,
    username: o.username,
    password: o.password,
    restoreName: c.server.config.clusterEnabled ? "RESTORE-ASKING" : "RESTORE",
    tls: c.server.config.tlsCluster ? clientTlsOptions(c.server) : null,
  };
}

/** MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password] [AUTH2 username password] [KEYS key [key ...]] */
function migrateCommand(c: Client): void {
  const o = parseMigrateOptions(c);
  if (o === null) return;
  const timeout = parseInt64Arg(c, 5);
  if (timeout === null) return;
  const dbid = parseInt64Arg(c, 4);
  if (dbid === null) return;
  const timeoutMs = timeout <= 0 ? 1000 : Math.min(Number(timeout), MAX_TIMEOUT_MS);
  const sent = snapshotKeys(c, o);
  if (sent.length === 0) return c.w.addRaw(NOKEY);
  if (c.denyBlocking) return c.w.addError(NOT_IN_MULTI);
  const request = buildRequest(c, o, timeoutMs, String(dbid));
  if (request === null) return;
  const wait = new MigrateWait(c.db, request, sent);
  c.server.blocking.block(c, wait);
  // Until the target answered, commands on these keys wait: they would act on a copy that
  // is about to go.
  c.server.keyHolds.hold(c.db, sent.map((key) => key.name));
  startTransfer(c, wait);
}

/** COMMAND GETKEYS: the key argument, or what follows KEYS when the key argument is empty (migrateGetKeys). */
function migrateGetKeys(argv: Argv, base: number, argc: number): { pos: number; flags: string }[] {
  let first = 3;
  let num = 1;
  for (let i = 6; i < argc; i++) {
    const at = base + i;
    if (argv.is(at, "keys")) {
      if (argv.len[base + 3] !== 0) {
        num = 0;
      } else {
        first = i + 1;
        num = argc - first;
      }
      break;
    }
    if (argv.is(at, "auth")) i += 1;
    else if (argv.is(at, "auth2")) i += 2;
  }
  const keys: { pos: number; flags: string }[] = [];
  for (let i = 0; i < num; i++) keys.push({ pos: first + i, flags: "RW access delete" });
  return keys;
}

export const migrateCommands: CommandDef[] = [
  {
    name: "migrate", arity: -6, flags: "write", acl: "keyspace dangerous", group: "generic", since: "2.6.0",
    summary: "Atomically transfer a key from a Redis instance to another one.",
    complexity:
      "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.",
    history: [
      ["3.0.0", "Added the `COPY` and `REPLACE` options."],
      ["3.0.6", "Added the `KEYS` option."],
      ["4.0.7", "Added the `AUTH` option."],
      ["6.0.0", "Added the `AUTH2` option."],
    ],
    tips: ["nondeterministic_output"],
    keySpecs: [
      { flags: "RW access delete", begin: { index: 3 }, find: { lastkey: 0, keystep: 1, limit: 0 } },
      { flags: "RW access delete incomplete", begin: { keyword: "KEYS", startfrom: -2 }, find: { lastkey: -1, keystep: 1, limit: 0 } },
    ],
    getKeys: migrateGetKeys,
    arguments: [
      { name: "host", type: "string" },
      { name: "port", type: "integer" },
      {
        name: "key_or_empty_string", type: "oneof",
        arguments: [
          { name: "key", type: "key", key_spec_index: 0 },
          { name: "empty_string", type: "pure-token", token: "" },
        ],
      },
      { name: "destination-db", type: "integer" },
      { name: "timeout", type: "integer" },
      { name: "copy", type: "pure-token", token: "COPY", since: "3.0.0", flags: ["optional"] },
      { name: "replace", type: "pure-token", token: "REPLACE", since: "3.0.0", flags: ["optional"] },
      {
        name: "authentication", type: "oneof", flags: ["optional"],
        arguments: [
          { name: "password", type: "string", token: "AUTH", since: "4.0.7", flags: ["optional"] },
          {
            name: "username_password", type: "block", token: "AUTH2", since: "6.0.0", flags: ["optional"],
            arguments: [
              { name: "username", type: "string" },
              { name: "password", type: "string" },
            ],
          },
        ],
      },
      { name: "key", type: "key", key_spec_index: 1, token: "KEYS", since: "3.0.6", flags: ["optional", "multiple"] },
    ],
    handler: migrateCommand,
  },
];
