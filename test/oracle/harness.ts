// The oracle: a real redis-server 7.0 and a redbun started side by side on free ports, and a
// raw RESP connection to each, so tests can assert that both give byte-identical replies to
// the same command sequences, errors included.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { seedFromEnv } from "./fuzz.ts";
import type { Subprocess } from "bun";

export const REPO_ROOT = resolve(import.meta.dir, "../..");

/** A port nobody listens on right now. */
export function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** Encode one command as a RESP multibulk; strings are taken as latin1 bytes. */
export function encodeCommand(args: (string | Uint8Array)[]): Uint8Array {
  const parts: Uint8Array[] = [Buffer.from(`*${args.length}\r\n`, "latin1")];
  for (const a of args) {
    const bytes = typeof a === "string" ? Buffer.from(a, "latin1") : a;
    parts.push(Buffer.from(`$${bytes.length}\r\n`, "latin1"), bytes, Buffer.from("\r\n", "latin1"));
  }
  return Buffer.concat(parts);
}

/** Offset just past the first complete RESP reply in buf[pos..), or -1 if incomplete. */
export function replyEnd(buf: Uint8Array, pos: number): number {
  let pending = 1;
  while (pending > 0) {
    if (pos >= buf.length) return -1;
    const type = buf[pos]!;
    const cr = buf.indexOf(13, pos);
    if (cr < 0 || cr + 1 >= buf.length) return -1;
    const n = Number(Buffer.from(buf.subarray(pos + 1, cr)).toString("latin1"));
    pos = cr + 2;
    switch (type) {
      case 36: // '$' bulk
      case 61: // '=' verbatim
      case 33: // '!' blob error
        if (n >= 0) {
          if (pos + n + 2 > buf.length) return -1;
          pos += n + 2;
        }
        pending--;
        break;
      case 42: // '*' array
      case 126: // '~' set
      case 62: // '>' push
        pending += Math.max(n, 0) - 1;
        break;
      case 37: // '%' map
        pending += 2 * n - 1;
        break;
      case 124: // '|' attribute: n pairs, then the reply it annotates
        pending += 2 * n;
        break;
      default: // + - : _ , # ( one line
        pending--;
    }
  }
  return pos;
}

/**
 * A raw connection that reads replies as latin1 strings, byte for byte. It can stop
 * reading (`pause`), so the server sees a slow reader; received bytes go into one growable
 * buffer, so that collecting megabytes of replies costs linear time.
 */
export class RespConn {
  private buf = new Uint8Array(64 * 1024);
  private start = 0;
  private end = 0;
  private outQueue: Uint8Array[] = [];
  private waiters: (() => void)[] = [];
  private closed = false;
  private socket!: Awaited<ReturnType<typeof Bun.connect>>;

  static async connect(port: number): Promise<RespConn> {
    const c = new RespConn();
    c.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (_s, d) => c.append(d),
        drain: () => c.flushQueue(),
        close: () => c.onClosed(),
        error: () => c.onClosed(),
      },
    });
    return c;
  }

  private append(d: Uint8Array): void {
    if (this.end + d.length > this.buf.length) {
      const live = this.end - this.start;
      let size = this.buf.length;
      while (size < live + d.length) size *= 2;
      const target = size === this.buf.length ? this.buf : new Uint8Array(size);
      target.set(this.buf.subarray(this.start, this.end));
      this.buf = target;
      this.start = 0;
      this.end = live;
    }
    this.buf.set(d, this.end);
    this.end += d.length;
    this.wake();
  }

  private onClosed(): void {
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async more(timeoutMs: number): Promise<void> {
    if (this.closed) throw new Error("connection closed");
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise<void>((r) => this.waiters.push(r)),
      new Promise<void>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`no data within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /**
   * Send bytes, in order. Bun's socket.write is unbuffered: what the kernel does not take
   * now is queued here and written on drain.
   */
  write(data: Uint8Array | string): void {
    const b = typeof data === "string" ? new Uint8Array(Buffer.from(data, "latin1")) : data;
    if (this.outQueue.length > 0) {
      this.outQueue.push(b);
      return;
    }
    const n = this.socket.write(b);
    if (n >= 0 && n < b.length) this.outQueue.push(b.subarray(n));
  }

  private flushQueue(): void {
    while (this.outQueue.length > 0) {
      const head = this.outQueue[0]!;
      const n = this.socket.write(head);
      if (n < 0) return;
      if (n < head.length) {
        this.outQueue[0] = head.subarray(n);
        return;
      }
      this.outQueue.shift();
    }
    this.wake();
  }

  /** Resolves once everything written has been handed to the kernel. */
  async flushed(timeoutMs = 20000): Promise<void> {
    while (this.outQueue.length > 0) await this.more(timeoutMs);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Take the first n received bytes. */
  private take(n: number): Uint8Array {
    const out = this.buf.slice(this.start, this.start + n);
    this.start += n;
    return out;
  }

  /** Read exactly n bytes. */
  async readBytes(n: number, timeoutMs = 20000): Promise<Uint8Array> {
    while (this.bufferedBytes < n) await this.more(timeoutMs);
    return this.take(n);
  }

  /** Read n complete replies; returns their bytes as one latin1 string. */
  async readReplies(n: number, timeoutMs = 20000): Promise<string> {
    let pos = 0; // Offset, from start, just past the replies found so far.
    let found = 0;
    for (;;) {
      const view = this.buf.subarray(this.start, this.end);
      while (found < n) {
        const next = replyEnd(view, pos);
        if (next < 0) break;
        pos = next;
        found++;
      }
      if (found === n) return latin1Text(this.take(pos));
      await this.more(timeoutMs);
    }
  }

  /** Read one complete reply. */
  read(timeoutMs = 10000): Promise<string> {
    return this.readReplies(1, timeoutMs);
  }

  /** Send one command and read its reply. */
  async call(...args: (string | Uint8Array)[]): Promise<string> {
    this.write(encodeCommand(args));
    return this.read();
  }

  /** Resolves once the server closed the connection; returns what it sent before. */
  async readUntilClosed(timeoutMs = 10000): Promise<string> {
    while (!this.closed) await this.more(timeoutMs);
    return latin1Text(this.take(this.bufferedBytes));
  }

  get bufferedBytes(): number {
    return this.end - this.start;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.socket.end();
  }
}

function latin1Text(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
}

/** A server process, stopped by `await using`. */
export class ServerProcess {
  constructor(
    readonly name: string,
    readonly port: number,
    readonly proc: Subprocess,
    /** The server's own data directory (its first `--dir`, see serverDir), removed when it stops. */
    readonly dir: string | null = null,
  ) {}

  async [Symbol.asyncDispose](): Promise<void> {
    this.proc.kill("SIGKILL");
    await this.proc.exited;
    if (this.dir !== null) rmSync(this.dir, { recursive: true, force: true });
  }

  stop(): Promise<void> {
    return this[Symbol.asyncDispose]();
  }
}

async function waitForPing(port: number, proc: Subprocess, name: string, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode} before answering`);
    try {
      const c = await RespConn.connect(port);
      try {
        // A server started with requirepass answers NOAUTH: it is up all the same.
        const reply = await c.call("PING");
        if (reply === "+PONG\r\n" || reply.startsWith("-NOAUTH")) return;
      } finally {
        c.close();
      }
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      // A server that never answered is no one's to stop later: stop it here.
      proc.kill("SIGKILL");
      throw new Error(`${name} did not answer PING on port ${port}`);
    }
    await Bun.sleep(20);
  }
}

/**
 * A fresh data directory for a server, given as its first `--dir`: whatever it saves (DEBUG
 * RELOAD, a replica's RDB) stays its own, and it never loads a dump.rdb another test left
 * in a shared directory. A test's own `--dir` comes later and wins, as in redis-server.
 */
function serverDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `redbun-test-${name}-`));
}

/** Start Debian's redis-server 7.0 with persistence off. */
export async function startRedis(extraArgs: string[] = [], stdout: "ignore" | "pipe" = "ignore"): Promise<ServerProcess> {
  const port = freePort();
  const dir = serverDir("redis");
  const proc = Bun.spawn(
    ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no", ...extraArgs],
    { stdout, stderr: "inherit", cwd: "/tmp" },
  );
  await waitForPing(port, proc, "redis-server");
  return new ServerProcess("redis", port, proc, dir);
}

/** Start redbun from this checkout with the same flags. */
export async function startRedbun(extraArgs: string[] = [], stdout: "ignore" | "pipe" = "ignore"): Promise<ServerProcess> {
  const port = freePort();
  const dir = serverDir("redbun");
  const proc = Bun.spawn(
    ["bun", "src/main.ts", "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no", ...extraArgs],
    { stdout, stderr: "inherit", cwd: REPO_ROOT },
  );
  await waitForPing(port, proc, "redbun");
  return new ServerProcess("redbun", port, proc, dir);
}

/** Both servers and one connection to each: send the same thing, compare the bytes. */
export class Oracle {
  /** Connections the oracle made besides r and b, closed when it stops. */
  private readonly extra: RespConn[] = [];

  private constructor(
    readonly redis: ServerProcess,
    readonly redbun: ServerProcess,
    readonly r: RespConn,
    readonly b: RespConn,
  ) {}

  static async start(extraArgs: string[] = []): Promise<Oracle> {
    const started = await Promise.allSettled([startRedis(extraArgs), startRedbun(extraArgs)]);
    const failed = started.find((r) => r.status === "rejected");
    if (failed !== undefined) {
      // Do not leave the other server running when one could not start.
      for (const r of started) if (r.status === "fulfilled") await r.value.stop();
      throw (failed as PromiseRejectedResult).reason;
    }
    const [redis, redbun] = started.map((r) => (r as PromiseFulfilledResult<ServerProcess>).value) as [ServerProcess, ServerProcess];
    const [r, b] = await Promise.all([RespConn.connect(redis.port), RespConn.connect(redbun.port)]);
    return new Oracle(redis, redbun, r, b);
  }

  /** Send a command to both; returns [redis reply, redbun reply]. */
  async both(...args: (string | Uint8Array)[]): Promise<[string, string]> {
    return Promise.all([this.r.call(...args), this.b.call(...args)]);
  }

  /** Send a command to both and throw unless the replies are byte-identical. Returns the reply. */
  async same(...args: (string | Uint8Array)[]): Promise<string> {
    const [want, got] = await this.both(...args);
    if (want !== got) {
      throw new Error(`reply differs for ${JSON.stringify(args)}\n  redis:  ${JSON.stringify(want)}\n  redbun: ${JSON.stringify(got)}`);
    }
    return want;
  }

  /** Run a sequence of commands through `same`. */
  async sameAll(commands: (string | Uint8Array)[][]): Promise<void> {
    for (const c of commands) await this.same(...c);
  }

  /** A new pair of connections, for multi-client scenarios. */
  async connectBoth(): Promise<[RespConn, RespConn]> {
    return Promise.all([RespConn.connect(this.redis.port), RespConn.connect(this.redbun.port)]);
  }

  /**
   * A pair of connections switched to RESP3 (HELLO 3, whose replies describe each server
   * and so are not compared), for suites that check both protocols. Closed with the oracle.
   */
  async connectResp3(): Promise<[RespConn, RespConn]> {
    const pair = await this.connectBoth();
    this.extra.push(...pair);
    await Promise.all(pair.map((conn) => conn.call("HELLO", "3")));
    return pair;
  }

  /** OBJECT ENCODING of a key on Redis ("listpack", "hashtable" ...), "none" when it is missing. */
  async encodingOf(key: string): Promise<string> {
    const reply = await this.r.call("OBJECT", "ENCODING", key);
    return reply.startsWith("$") && !reply.startsWith("$-1") ? reply.split("\r\n")[1]! : "none";
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const conn of this.extra) conn.close();
    this.r.close();
    this.b.close();
    await Promise.all([this.redis.stop(), this.redbun.stop()]);
  }

  stop(): Promise<void> {
    return this[Symbol.asyncDispose]();
  }
}

/** The bulk strings of a flat RESP array reply (`*N` of `$len` items), as latin1 strings. */
export function bulkArray(reply: string): string[] {
  const out: string[] = [];
  let pos = reply.indexOf("\r\n") + 2;
  while (pos < reply.length) {
    const cr = reply.indexOf("\r\n", pos);
    const len = Number(reply.slice(pos + 1, cr));
    out.push(reply.slice(cr + 2, cr + 2 + len));
    pos = cr + 2 + len + 2;
  }
  return out;
}

/** A CONFIG GET reply (RESP2 flat array of name, value pairs) as a map. */
export function configMap(reply: string): Map<string, string> {
  const a = bulkArray(reply);
  const m = new Map<string, string>();
  for (let i = 0; i < a.length; i += 2) m.set(a[i]!, a[i + 1]!);
  return m;
}

/** A small seeded PRNG (mulberry32) so that fuzzers can print and replay their seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Runs body with a PRNG seeded from SEED or at random; on failure prints the seed under
 * `name`, so that `SEED=n bun test ...` replays the run.
 */
export function withSeed(name: string, body: (random: () => number) => void): void {
  const seed = seedFromEnv();
  try {
    body(rng(seed));
  } catch (error) {
    console.error(`${name} failed with SEED=${seed}`);
    throw error;
  }
}

/**
 * Runs a command-sequence fuzzer's body, which pushes each command it sends onto
 * `history`; on failure prints the SEED that replays the run and the last commands
 * (HISTORY=n of them, 15 by default), then rethrows.
 */
export async function withHistory(name: string, seed: number, body: (history: string[][]) => Promise<void>): Promise<void> {
  const history: string[][] = [];
  try {
    await body(history);
  } catch (error) {
    const recent = history.slice(-Number(process.env.HISTORY ?? 15)).map((c) => JSON.stringify(c)).join("\n  ");
    console.error(`${name} failed: replay with SEED=${seed}\nlast commands:\n  ${recent}`);
    throw error;
  }
}
