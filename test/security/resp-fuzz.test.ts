// A seeded RESP fuzzer: random and mutated request frames, built from a corpus of valid
// commands, thrown at redbun over many connections in every way a client can misbehave
// (frames split at random, half-closed sockets, one byte per tick, hundreds at once),
// while a well-behaved client keeps writing and reading on its own connection. The server
// must stay up, keep its memory bounded, keep answering that client quickly, and keep its
// data intact. A second part sends malformed frames to redbun and to the real redis-server
// 7.0 and compares what each replies before it closes, byte for byte: whole, in pieces read
// apart, from a RESP3 client, and before AUTH on servers with a password.
//
// Bounds: RSS under RSS_LIMIT_MB, every call of the well-behaved client under
// LATENCY_LIMIT_MS (typical runs: ~100 MB and under 150 ms).
//
// SEED=n replays a run, STEPS=n changes the number of frames.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import { RespConn, bulkArray, encodeCommand, rng, startRedbun, startRedis, type ServerProcess } from "../oracle/harness.ts";
import { type Random, pick, seedFromEnv, stepsFromEnv } from "../oracle/fuzz.ts";
import { infoField, rssMb, waitUntil } from "./helpers.ts";

const SEED = seedFromEnv();
const STEPS = stepsFromEnv(2000);

/** Bounds the run is held to. */
const RSS_LIMIT_MB = 400;
const LATENCY_LIMIT_MS = 1000;

// ---------------------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------------------

/**
 * Valid commands whose replies are the same on every run and on both servers, over keys of
 * their own (the well-behaved client's keys are elsewhere). Nothing here blocks, changes
 * the server's configuration or touches other clients.
 */
const CORPUS: string[][] = [
  ["PING"], ["PING", "hello"], ["ECHO", "fuzz"], ["ECHO", ""], ["ECHO", "\x00\r\n\xff"],
  ["SET", "fz:a", "123"], ["GET", "fz:a"], ["INCR", "fz:n"], ["INCRBY", "fz:n", "-7"], ["APPEND", "fz:s", "xyz"],
  ["SETRANGE", "fz:s", "5", "abc"], ["GETRANGE", "fz:s", "0", "-1"], ["STRLEN", "fz:s"], ["DEL", "fz:b", "fz:c"],
  ["EXISTS", "fz:a", "fz:b"], ["MSET", "fz:b", "1", "fz:c", "2"], ["MGET", "fz:a", "fz:b", "fz:c"], ["TYPE", "fz:h"],
  ["HSET", "fz:h", "f", "v", "g", "w"], ["HGET", "fz:h", "f"], ["HDEL", "fz:h", "g"], ["HLEN", "fz:h"],
  ["RPUSH", "fz:l", "a", "b", "c"], ["LRANGE", "fz:l", "0", "-1"], ["LPOP", "fz:l"], ["LLEN", "fz:l"],
  ["SADD", "fz:set", "x", "y"], ["SISMEMBER", "fz:set", "x"], ["SCARD", "fz:set"],
  ["ZADD", "fz:z", "1", "m", "2.5", "n"], ["ZRANGE", "fz:z", "0", "-1", "WITHSCORES"], ["ZSCORE", "fz:z", "n"],
  ["EXPIRE", "fz:a", "1000"], ["PERSIST", "fz:a"], ["OBJECT", "ENCODING", "fz:l"],
  ["SELECT", "1"], ["SELECT", "0"], ["CLIENT", "SETNAME", "fz"], ["CLIENT", "GETNAME"],
  ["MULTI"], ["EXEC"], ["DISCARD"], ["GETSET", "fz:a", "9"], ["SETNX", "fz:d", "1"],
];

/** Numbers to put in a `*` or `$` header: limits, overflows, negatives and non-numbers. */
const HOSTILE_LENGTHS = [
  "11", "2147483648", "2147483647", "9999999999", "536870912", "536870913", "1048577", "16385", "-1", "-5",
  "-2147483649", "99999999999999999999", "0x10", "1e3", " 3", "+3", "00", "", "3 ", "4\x00",
];

/** Request-shaped RESP3 and other non-request type bytes. */
const RESP3_FRAMES = [
  "%1\r\n$1\r\na\r\n$1\r\nb\r\n", "~2\r\n$1\r\na\r\n$1\r\nb\r\n", "#t\r\n", ",1.5\r\n", "(12345\r\n", "_\r\n",
  ">1\r\n$4\r\nPING\r\n", "|1\r\n+a\r\n+b\r\n", "=8\r\ntxt:ping\r\n", "!3\r\nERR\r\n", "+PING\r\n", "-ERR\r\n", ":1\r\n",
  "*2\r\n$4\r\nECHO\r\n:1\r\n", "*2\r\n$4\r\nECHO\r\n%1\r\n", "*2\r\n$4\r\nECHO\r\n_\r\n", "*1\r\n+PING\r\n",
];

const bytes = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

const randInt = (r: Random, n: number) => Math.floor(r() * n);

function randomBytes(r: Random, n: number): Uint8Array {
  const out = new Uint8Array(n);
  // Mostly protocol characters, so that random input reaches the parser's deeper states.
  const alphabet = bytes("*$\r\n0123456789- \"'\\xabc+:%~#,(_>|=!\x00\xff");
  for (let i = 0; i < n; i++) out[i] = r() < 0.7 ? alphabet[randInt(r, alphabet.length)]! : randInt(r, 256);
  return out;
}

function validFrame(r: Random): Uint8Array {
  return encodeCommand(pick(r, CORPUS));
}

/** Replaces the number in one `*n` or `$n` header of the frame. */
function hostileLength(r: Random, frame: Uint8Array): Uint8Array {
  const text = Buffer.from(frame).toString("latin1");
  const headers = [...text.matchAll(/[*$]\d+\r\n/g)];
  const h = pick(r, headers);
  const at = h.index! + 1;
  const end = h.index! + h[0].length - 2;
  return bytes(text.slice(0, at) + pick(r, HOSTILE_LENGTHS) + text.slice(end));
}

/** An inline command with quoting trouble: unbalanced, escaped, huge or glued quotes. */
function inlineQuotes(r: Random): Uint8Array {
  const forms = [
    'ECHO "abc\r\n', "ECHO 'abc\r\n", 'ECHO "a"b\r\n', 'ECHO "a\\"\r\n', 'SET fz:q "\\x4\r\n', 'ECHO "\\x41\\x42"\r\n',
    "ECHO 'it\\'s'\r\n", 'ECHO ""\r\n', "ECHO ''\r\n", 'ECHO "' + "q".repeat(randInt(r, 70_000)) + '"\r\n',
    'ECHO "' + "q".repeat(randInt(r, 70_000)), '"'.repeat(randInt(r, 50)) + "\r\n", "   \r\n", "\r\n\r\n\r\n",
    "PING\n", "PING\r\r\n", "ECHO a\tb\r\n",
  ];
  return bytes(pick(r, forms));
}

/** A multibulk with a whole request where an argument should be. */
function nestedStar(r: Random): Uint8Array {
  const inner = Buffer.from(validFrame(r)).toString("latin1");
  return bytes(`*3\r\n$4\r\nECHO\r\n${inner}$1\r\nx\r\n`);
}

/** CR LF swapped, doubled or dropped somewhere in the frame. */
function lineEndGames(r: Random, frame: Uint8Array): Uint8Array {
  const text = Buffer.from(frame).toString("latin1");
  const ends = [...text.matchAll(/\r\n/g)];
  const e = pick(r, ends);
  const swap = pick(r, ["\n", "\r", "\r\r\n", "\n\r", "", "\r\n\r\n", "\r\x00\n"]);
  return bytes(text.slice(0, e.index!) + swap + text.slice(e.index! + 2));
}

function bitFlips(r: Random, frame: Uint8Array): Uint8Array {
  const out = frame.slice();
  for (let i = 1 + randInt(r, 3); i > 0; i--) out[randInt(r, out.length)]! ^= 1 << randInt(r, 8);
  return out;
}

/**
 * One fuzzed input: one or more frames, some mutated, back to back. The weights favour
 * mutations of valid frames, which get furthest into the parser.
 */
export function fuzzInput(r: Random): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let n = 1 + randInt(r, 3); n > 0; n--) parts.push(fuzzFrame(r));
  return concat(parts);
}

function fuzzFrame(r: Random): Uint8Array {
  const frame = validFrame(r);
  switch (randInt(r, 11)) {
    case 0:
      return frame;
    case 1:
    case 2:
      return bitFlips(r, frame);
    case 3:
      return frame.subarray(0, randInt(r, frame.length));
    case 4: {
      const other = validFrame(r);
      return concat([frame.subarray(0, randInt(r, frame.length)), other.subarray(randInt(r, other.length))]);
    }
    case 5:
      return randomBytes(r, 1 + randInt(r, 200));
    case 6:
      return hostileLength(r, frame);
    case 7:
      return inlineQuotes(r);
    case 8:
      return nestedStar(r);
    case 9:
      return bytes(pick(r, RESP3_FRAMES));
    default:
      return lineEndGames(r, frame);
  }
}

// ---------------------------------------------------------------------------------------
// Ways to send
// ---------------------------------------------------------------------------------------

/**
 * Sends input on a new connection and half-closes it (shutdown for writing), then collects
 * what the server answers until it closes: the way to see every reply to a frame, errors
 * included. With `cuts`, the input goes in pieces split at those offsets, a few
 * milliseconds apart, so that the server reads them separately. A server that never closes
 * is cut off after timeoutMs ("<open>").
 */
export function sendHalfClosed(port: number, input: Uint8Array, timeoutMs = 3000, cuts: number[] = []): Promise<string> {
  return new Promise((resolve) => {
    let out = "";
    const s = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true }, async () => {
      let from = 0;
      for (const cut of cuts) {
        s.write(input.subarray(from, cut));
        from = cut;
        await Bun.sleep(3);
      }
      s.end(input.subarray(from));
    });
    const finish = (suffix: string) => {
      clearTimeout(timer);
      s.destroy();
      resolve(out + suffix);
    };
    const timer = setTimeout(() => finish("<open>"), timeoutMs);
    s.on("data", (d) => (out += d.toString("latin1")));
    s.on("end", () => finish(""));
    s.on("error", () => finish("<reset>"));
  });
}

/** Up to three random offsets inside the input, in order, to split it at. */
function randomCuts(r: Random, length: number): number[] {
  const cuts = Array.from({ length: 1 + randInt(r, 3) }, () => randInt(r, length));
  return [...new Set(cuts)].filter((cut) => cut > 0).sort((a, b) => a - b);
}

/** Sends input in random pieces, a tick apart, reads for a moment, and drops the connection. */
async function sendInPieces(port: number, input: Uint8Array, r: Random): Promise<void> {
  const c = await RespConn.connect(port);
  for (let pos = 0; pos < input.length && !c.isClosed; ) {
    const n = 1 + randInt(r, Math.max(1, input.length / 3));
    c.write(input.subarray(pos, pos + n));
    pos += n;
    await Bun.sleep(0);
  }
  await Promise.race([c.readUntilClosed(50).catch(() => ""), Bun.sleep(50)]);
  c.close();
}

/** A slow-loris client: one byte per tick of up to 80 bytes, then gone. */
async function sendSlowly(port: number, input: Uint8Array): Promise<void> {
  const c = await RespConn.connect(port);
  for (let i = 0; i < Math.min(80, input.length) && !c.isClosed; i++) {
    c.write(input.subarray(i, i + 1));
    await Bun.sleep(1);
  }
  c.close();
}

/** Many connections at once, each with its own input, all dropped together. */
async function sendMany(port: number, r: Random, count: number): Promise<void> {
  const conns = await Promise.all(Array.from({ length: count }, () => RespConn.connect(port)));
  for (const c of conns) c.write(fuzzInput(r));
  await Bun.sleep(50);
  for (const c of conns) c.close();
}

// ---------------------------------------------------------------------------------------
// The well-behaved client
// ---------------------------------------------------------------------------------------

/** Writes and reads its own keys until stopped, checking each reply and timing each call. */
class Canary {
  readonly written = new Map<string, string>();
  maxLatencyMs = 0;
  calls = 0;
  private running = true;
  private loop: Promise<void> = Promise.resolve();
  failure: string | null = null;

  constructor(
    private readonly conn: RespConn,
    private readonly r: Random,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async timed(...args: string[]): Promise<string> {
    const t0 = performance.now();
    const reply = await this.conn.call(...args);
    this.maxLatencyMs = Math.max(this.maxLatencyMs, performance.now() - t0);
    this.calls++;
    return reply;
  }

  private async run(): Promise<void> {
    for (let i = 0; this.running; i++) {
      const key = `canary:${i % 300}`;
      const value = Buffer.from(randomBytes(this.r, randInt(this.r, 2000))).toString("latin1");
      const checks: [string, string][] = [
        [await this.timed("PING"), "+PONG\r\n"],
        [await this.timed("SET", key, value), "+OK\r\n"],
        [await this.timed("GET", key), `$${value.length}\r\n${value}\r\n`],
      ];
      this.written.set(key, value);
      for (const [got, want] of checks) {
        if (got !== want && this.failure === null) this.failure = `canary call ${this.calls}: got ${JSON.stringify(got.slice(0, 80))}`;
      }
      await Bun.sleep(2);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Robustness
// ---------------------------------------------------------------------------------------

describe("redbun under fuzzed RESP", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startRedbun();
  });
  afterAll(() => server?.stop());

  test("stays up, bounded and responsive; the well-behaved client's data is intact", async () => {
    const r = rng(SEED);
    const pid = server.proc.pid;
    const admin = await RespConn.connect(server.port);
    const baseline = infoField(await admin.call("INFO", "clients"), "connected_clients");
    const canary = new Canary(await RespConn.connect(server.port), rng(SEED ^ 0x5eed));
    let peakRssMb = rssMb(pid);
    const sampler = setInterval(() => {
      if (server.proc.exitCode === null) peakRssMb = Math.max(peakRssMb, rssMb(pid));
    }, 50);
    canary.start();
    try {
      // Workers draw from one shared step counter, each with its own PRNG stream, so the
      // inputs depend on the seed alone.
      let step = 0;
      const worker = async (w: number) => {
        const wr = rng(SEED + w * 7919);
        while (step < STEPS && server.proc.exitCode === null) {
          step++;
          const input = fuzzInput(wr);
          const mode = wr();
          if (mode < 0.45) await sendHalfClosed(server.port, input, 1000);
          else if (mode < 0.85) await sendInPieces(server.port, input, wr);
          else if (mode < 0.95) await sendSlowly(server.port, input);
          else await sendMany(server.port, wr, 100);
        }
      };
      await Promise.all(Array.from({ length: 12 }, (_, w) => worker(w)));
    } catch (error) {
      console.error(`resp-fuzz failed with SEED=${SEED}`);
      throw error;
    } finally {
      clearInterval(sampler);
      await canary.stop();
    }
    const report = `SEED=${SEED}: ${canary.calls} canary calls, max latency ${canary.maxLatencyMs.toFixed(1)} ms, peak RSS ${peakRssMb.toFixed(1)} MB`;
    console.log(report);
    expect(server.proc.exitCode, report).toBeNull();
    expect(canary.failure, report).toBeNull();
    expect(canary.maxLatencyMs, report).toBeLessThan(LATENCY_LIMIT_MS);
    expect(peakRssMb, report).toBeLessThan(RSS_LIMIT_MB);
    // Every fuzzing connection is gone once the server has noticed the closes.
    const clients = await waitUntil(async () => infoField(await admin.call("INFO", "clients"), "connected_clients"), (n) => n === baseline + 1);
    expect(clients, report).toBe(baseline + 1);
    // What the canary wrote last under each key is what the server holds.
    const keys = [...canary.written.keys()];
    const values = await admin.call("MGET", ...keys);
    const want = `*${keys.length}\r\n` + keys.map((k) => `$${canary.written.get(k)!.length}\r\n${canary.written.get(k)}\r\n`).join("");
    expect(values === want, report).toBe(true);
    admin.close();
  }, 30000);
});

// ---------------------------------------------------------------------------------------
// Malformed frames, compared with the real redis-server
// ---------------------------------------------------------------------------------------

/** A redis-server and a redbun started alike, to which the same inputs go on fresh connections. */
class ServerPair {
  /** Commands Redis has and redbun does not (streams ...), which a mutation may hit by chance. */
  private missing = new Set<string>();

  private constructor(
    readonly redis: ServerProcess,
    readonly redbun: ServerProcess,
  ) {}

  static async start(args: string[] = [], auth: string[] = []): Promise<ServerPair> {
    const pair = new ServerPair(...(await Promise.all([startRedis(args), startRedbun(args)])));
    const names = async (port: number) => {
      const c = await RespConn.connect(port);
      if (auth.length > 0) await c.call("AUTH", ...auth);
      const list = bulkArray(await c.call("COMMAND", "LIST"));
      c.close();
      return new Set(list);
    };
    const [inRedis, inRedbun] = await Promise.all([names(pair.redis.port), names(pair.redbun.port)]);
    pair.missing = new Set([...inRedis].filter((name) => !inRedbun.has(name)));
    return pair;
  }

  stop(): Promise<unknown> {
    return Promise.all([this.redis.stop(), this.redbun.stop()]);
  }

  /** Whether redbun's replies differ only because the input named a command it lacks. */
  private explainedByMissingCommand(got: string): boolean {
    return [...got.matchAll(/-ERR unknown command '([^']*)'/g)].some((m) => this.missing.has(m[1]!.toLowerCase()));
  }

  /**
   * Sends input to both on half-closed connections (in pieces split at `cuts`); expects the
   * same bytes back and returns them.
   */
  async sameReplies(input: Uint8Array, cuts: number[] = []): Promise<string> {
    // A server that closes with input still unread makes the kernel reset the connection
    // rather than end it; either way the server closed it, so the two compare alike.
    const replies = await Promise.all([sendHalfClosed(this.redis.port, input, 3000, cuts), sendHalfClosed(this.redbun.port, input, 3000, cuts)]);
    // A line split off "PING hello" is a HELLO, whose reply holds the connection's id.
    const [want, got] = replies.map((reply) => reply.replace(/<reset>$/, "").replace(/\$2\r\nid\r\n:\d+\r\n/g, "$2\r\nid\r\n:ID\r\n"));
    if (want !== got && this.explainedByMissingCommand(got!)) return want!;
    const shown = JSON.stringify(Buffer.from(input).toString("latin1")) + (cuts.length > 0 ? ` cut at ${cuts}` : "");
    expect(`${shown} -> ${JSON.stringify(got)}`).toBe(`${shown} -> ${JSON.stringify(want)}`);
    return want!;
  }

  /**
   * Sends `count` seeded fuzz inputs through sameReplies, whole or (`split`) in random
   * pieces, each after `prefix` (a HELLO 3, say); returns how many ended in a protocol error.
   */
  async sameForFuzz(count: number, label: string, split = false, prefix: Uint8Array = new Uint8Array(0)): Promise<number> {
    const r = rng(SEED);
    let protocolErrors = 0;
    try {
      for (let i = 0; i < count; i++) {
        const input = concat([prefix, fuzzInput(r)]);
        const reply = await this.sameReplies(input, split ? randomCuts(r, input.length) : []);
        if (reply.includes("-ERR Protocol error")) protocolErrors++;
      }
    } catch (error) {
      console.error(`resp-fuzz (${label}) failed with SEED=${SEED}`);
      throw error;
    }
    return protocolErrors;
  }
}

describe("malformed frames: the same replies as redis-server, then the same close", () => {
  let pair: ServerPair;
  beforeAll(async () => {
    pair = await ServerPair.start();
  });
  afterAll(() => pair?.stop());

  const PROTOCOL_ERRORS: [string, string][] = [
    ["*2147483648\r\n", "invalid multibulk length"],
    ["*1\r\n$9999999999\r\n", "invalid bulk length"],
    ["*1\r\n$-7\r\n", "invalid bulk length"],
    ["*2\r\n$4\r\nECHO\r\n*1\r\n$1\r\nx\r\n", "expected '$', got '*'"],
    ["*2\r\n$4\r\nECHO\r\n%1\r\n", "expected '$', got '%'"],
    ["*1\r\n+PING\r\n", "expected '$', got '+'"],
    ["*1\r\n$4\r\nPING\r\n*x\r\n", "invalid multibulk length"],
    ['SET fz:q "abc\r\n', "unbalanced quotes in request"],
    ["PING\r\n*1\n$4\r\nPING\r\n", "invalid multibulk length"],
    ["*1\r\n$4 \r\nPING\r\n", "invalid bulk length"],
    ["*+1\r\n", "invalid multibulk length"],
    ["*1\r\n$0x4\r\nPING\r\n", "invalid bulk length"],
  ];
  for (const [input, error] of PROTOCOL_ERRORS) {
    test(JSON.stringify(input), async () => {
      const reply = await pair.sameReplies(bytes(input));
      expect(reply.endsWith(`-ERR Protocol error: ${error}\r\n`)).toBe(true);
    });
  }

  test("frames Redis takes without an error: negative counts, RESP3 type bytes, bare line ends", async () => {
    for (const input of ["*-5\r\nPING\r\n", "*0\r\nPING\r\n", "%1\r\n", "#t\r\n", "_\r\n", ":1\r\n", "\n\n\r\n", "PING\n", "PING\r\r\n", "+PING\r\n"]) {
      const reply = await pair.sameReplies(bytes(input));
      expect(reply).not.toContain("Protocol error");
    }
  });

  test("seeded mutated frames", async () => {
    const count = Math.ceil(STEPS / 3);
    // The mutations do reach the parser's error paths.
    expect(await pair.sameForFuzz(count, "compared with redis-server")).toBeGreaterThan(count / 20);
  }, 20000);

  test("seeded mutated frames, arriving in pieces", async () => {
    // Each piece is a read of its own: the parser resumes across reads as Redis's does.
    const count = Math.ceil(STEPS / 10);
    expect(await pair.sameForFuzz(count, "in pieces, compared with redis-server", true)).toBeGreaterThan(count / 20);
  }, 20000);

  test("seeded mutated frames from a RESP3 client", async () => {
    const count = Math.ceil(STEPS / 10);
    expect(await pair.sameForFuzz(count, "RESP3, compared with redis-server", false, encodeCommand(["HELLO", "3"]))).toBeGreaterThan(count / 20);
  }, 20000);
});

describe("malformed frames before AUTH: the same replies as redis-server", () => {
  // With a password, requests are held to the unauthenticated limits (10 arguments, bulks
  // of 16384 bytes) and every command but AUTH and HELLO is refused.
  let pair: ServerPair;
  beforeAll(async () => {
    pair = await ServerPair.start(["--requirepass", "s3cret"], ["s3cret"]);
  });
  afterAll(() => pair?.stop());

  test("seeded mutated frames", async () => {
    const count = Math.ceil(STEPS / 6);
    expect(await pair.sameForFuzz(count, "before AUTH, compared with redis-server")).toBeGreaterThan(count / 20);
  }, 20000);
});
