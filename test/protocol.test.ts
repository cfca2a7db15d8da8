// The wire protocol against the oracle: requests split anywhere, long pipelines, inline
// requests, every protocol error (exact text, then the connection closes while other clients
// carry on), large and binary payloads, garbage, and slow readers. Every exchange runs on
// redis-server and redbun side by side and must produce the same bytes.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Oracle, RespConn, encodeCommand, rng } from "./oracle/harness.ts";
import { bytes, sameForPieces, sameSilence, sameUntilClosed, splitEvery, tick } from "./fixtures/resp.ts";

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start();
});
afterAll(() => o.stop());

/** Seed for the randomised tests: SEED= replays a failure. */
function seedFor(name: string): number {
  const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 1e9));
  console.log(`${name}: SEED=${seed}`);
  return seed;
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** A command's bytes plus the number of replies it produces. */
type Request = [Uint8Array, number];

function cmd(...args: (string | Uint8Array)[]): Request {
  return [encodeCommand(args), 1];
}

function inline(line: string, replies = 1): Request {
  return [bytes(line), replies];
}

function stream(requests: Request[]): [Uint8Array, number] {
  return [concat(requests.map((r) => r[0])), requests.reduce((n, r) => n + r[1], 0)];
}

describe("requests split across reads", () => {
  // Commands that exist from the start, so the framing is tested on its own.
  const [basic, basicReplies] = stream([
    cmd("PING"),
    cmd("ECHO", "a\r\n\x00\xff"),
    inline("ECHO 'x y'\r\n"),
    cmd("NOSUCHCMD", "arg"),
    inline("PING\n"),
    cmd("PING", "hello"),
  ]);

  test("split in two at every byte boundary", async () => {
    for (let k = 1; k < basic.length; k++) {
      await sameForPieces(o, [basic.subarray(0, k), basic.subarray(k)], basicReplies);
    }
  });

  test("written one byte at a time", async () => {
    const reply = await sameForPieces(o, splitEvery(basic, [1]), basicReplies);
    expect(reply.startsWith("+PONG\r\n$5\r\na\r\n\x00\xff\r\n$3\r\nx y\r\n-ERR unknown command")).toBe(true);
  });

  test("SET and GET split at every byte boundary", async () => {
    const [data, replies] = stream([
      cmd("SET", "split:\x00key", "v\r\nalue"),
      cmd("GET", "split:\x00key"),
      cmd("APPEND", "split:\x00key", "\xff"),
      cmd("GET", "split:\x00key"),
    ]);
    for (let k = 1; k < data.length; k++) {
      await sameForPieces(o, [data.subarray(0, k), data.subarray(k)], replies);
    }
  });

  test("two clients interleave partial commands without mixing them up", async () => {
    const [r1, b1] = await o.connectBoth();
    const [r2, b2] = await o.connectBoth();
    const first = encodeCommand(["ECHO", "first client"]);
    const second = encodeCommand(["ECHO", "second client"]);
    for (const [c1, c2] of [[r1, r2], [b1, b2]] as const) {
      c1.write(first.subarray(0, 9));
      await tick();
      c2.write(second.subarray(0, 5));
      await tick();
      c1.write(first.subarray(9, 20));
      await tick();
      c2.write(second.subarray(5));
      expect(await c2.read()).toBe("$13\r\nsecond client\r\n");
      c1.write(first.subarray(20));
      expect(await c1.read()).toBe("$12\r\nfirst client\r\n");
    }
    for (const c of [r1, b1, r2, b2]) c.close();
  });
});

describe("pipelines", () => {
  test("5000 commands in one write", async () => {
    const rand = rng(seedFor("pipeline"));
    const requests: Request[] = [];
    for (let i = 0; i < 5000; i++) {
      const pick = rand();
      if (pick < 0.4) requests.push(cmd("PING"));
      else if (pick < 0.8) requests.push(cmd("ECHO", randomBytes(rand, Math.floor(rand() * 200))));
      else if (pick < 0.9) requests.push(inline(`ECHO inline${i}\r\n`));
      else requests.push(cmd("NOSUCH", String(i)));
    }
    const [data, replies] = stream(requests);
    await sameForPieces(o, [data], replies);
  });

  test("5000 SET/GET/INCR/DEL in one write", async () => {
    const rand = rng(seedFor("pipeline-strings"));
    const requests: Request[] = [];
    for (let i = 0; i < 5000; i++) {
      const key = `pipe:${Math.floor(rand() * 50)}`;
      const pick = rand();
      if (pick < 0.35) requests.push(cmd("SET", key, randomBytes(rand, Math.floor(rand() * 64))));
      else if (pick < 0.7) requests.push(cmd("GET", key));
      else if (pick < 0.9) requests.push(cmd("INCR", key));
      else requests.push(cmd("DEL", key));
    }
    const [data, replies] = stream(requests);
    await sameForPieces(o, [data], replies);
  });

  test("a pipeline written in random small pieces", async () => {
    const rand = rng(seedFor("pipeline-pieces"));
    const requests: Request[] = [];
    for (let i = 0; i < 300; i++) requests.push(i % 3 === 0 ? inline(`PING ${i}\r\n`) : cmd("ECHO", randomBytes(rand, i)));
    const [data, replies] = stream(requests);
    const sizes = Array.from({ length: 16 }, () => 1 + Math.floor(rand() * 700));
    await sameForPieces(o, splitEvery(data, sizes), replies);
  });
});

describe("inline requests", () => {
  const cases: [string, number][] = [
    ["PING\r\n", 1],
    ["PING\n", 1],
    ["\r\n\n\r\n\nPING\r\n", 1],
    ["   \t  \r\nPING\r\n", 1],
    ['ECHO "a\\x41b"\r\n', 1],
    ['ECHO "\\x4g\\xzz\\x7E"\r\n', 1],
    ['ECHO "\\n\\r\\t\\b\\a\\z\\\\\\"q"\r\n', 1],
    ["ECHO 'single quoted'\r\n", 1],
    ["ECHO 'it\\'s'\r\n", 1],
    ["ECHO 'no \\n escape'\r\n", 1],
    ['ECHO a"b c"d\r\n', 1],
    ["ECHO ''\r\nECHO \"\"\r\n", 2],
    ["ECHO a\x0bb\r\n", 1],
    ["ECHO a\x0cb\r\n", 1],
    ["ECHO \x0b x \x0c\r\n", 1],
    ["ECHO a\rb\r\n", 1],
    ["ECHO \xff\xfe\x80\r\n", 1],
    ["ping\nPiNg\necho   spaced    \n", 3],
    ["NOSUCH a 'b c' \"d\"\r\n", 1],
    ["PING\r\n*1\r\n$4\r\nPING\r\nPING\n", 3],
  ];
  for (const [input, replies] of cases) {
    test(JSON.stringify(input), async () => {
      await sameForPieces(o, [bytes(input)], replies);
      await sameForPieces(o, splitEvery(bytes(input), [1]), replies);
    });
  }

  test("a 60KB inline argument", async () => {
    await sameForPieces(o, [bytes(`ECHO ${"x".repeat(60000)}\r\n`)], 1);
  });
});

describe("protocol errors", () => {
  const pad64k = "x".repeat(70000);
  const cases: [string, string | Uint8Array][] = [
    ["invalid multibulk length (not a number)", "*abc\r\n"],
    ["invalid multibulk length (over INT_MAX)", "*3000000000\r\n"],
    ["invalid multibulk length (leading zero)", "*01\r\n"],
    ["invalid multibulk length (empty)", "*\r\n"],
    ["invalid bulk length ($-1)", "*1\r\n$-1\r\n"],
    ["invalid bulk length ($abc)", "*1\r\n$abc\r\n"],
    ["invalid bulk length (leading zero)", "*1\r\n$04\r\nPING\r\n"],
    ["invalid bulk length (over proto-max-bulk-len)", "*1\r\n$536870913\r\n"],
    ["expected '$', got 'x'", "*1\r\nx4\r\nPING\r\n"],
    ["expected '$', got ':'", "*2\r\n$4\r\nECHO\r\n:1\r\n"],
    ["expected '$', got a high byte", "*1\r\n\xe9\r\n"],
    ["too big inline request", pad64k],
    ["too big mbulk count string", "*" + "1".repeat(70000)],
    ["too big bulk count string", "*1\r\n$" + "1".repeat(70000)],
    ["too big bulk count string (no '$')", "*1\r\n" + pad64k],
    ["unbalanced double quotes", 'ECHO "abc\r\n'],
    ["unbalanced single quotes", "ECHO 'abc\r\n"],
    ["closing quote followed by a letter", 'ECHO "a"b\r\n'],
    ["escaped closing quote", 'ECHO "a\\"\r\n'],
    ["NUL then too big", "PING\x00\r\n" + pad64k],
    ["NUL in a bulk header then too big", "*1\r\n$4\x00\r\n" + pad64k],
  ];
  for (const [name, input] of cases) {
    test(name, async () => {
      const reply = await sameUntilClosed(o, input);
      expect(reply).toMatch(/^-ERR Protocol error: [^\r\n]+\r\n$/);
      // The oracle's own connections are other clients: they carry on.
      expect(await o.same("PING")).toBe("+PONG\r\n");
    });
  }

  test("commands before the error are answered, commands after it are not run", async () => {
    const reply = await sameUntilClosed(o, "PING\r\n*1\r\n$4\r\nPING\r\nECHO ok\r\n*abc\r\nPING\r\n");
    expect(reply).toBe("+PONG\r\n+PONG\r\n$2\r\nok\r\n-ERR Protocol error: invalid multibulk length\r\n");
  });

  test("an error arriving byte by byte", async () => {
    const input = bytes("*2\r\n$4\r\nECHO\r\n$x\r\n");
    for (const port of [o.redis.port, o.redbun.port]) {
      const c = await RespConn.connect(port);
      for (const piece of splitEvery(input, [1])) {
        c.write(piece);
        await tick();
      }
      expect(await c.readUntilClosed()).toBe("-ERR Protocol error: invalid bulk length\r\n");
    }
  });

  test("a client in the middle of a command is not disturbed by another client's error", async () => {
    const [r, b] = await o.connectBoth();
    const echo = encodeCommand(["ECHO", "still here"]);
    r.write(echo.subarray(0, 12));
    b.write(echo.subarray(0, 12));
    await sameUntilClosed(o, "*1\r\n$-1\r\n");
    r.write(echo.subarray(12));
    b.write(echo.subarray(12));
    expect(await b.read()).toBe(await r.read());
    r.close();
    b.close();
  });

  test("QUIT answers OK, closes, and runs nothing after it", async () => {
    expect(await sameUntilClosed(o, "PING\r\nQUIT\r\nPING\r\n")).toBe("+PONG\r\n+OK\r\n");
  });
});

describe("limits set in the configuration", () => {
  // A separate pair of servers, so that the password cannot leak into other tests. The
  // limits are set at run time: the harness waits for +PONG, which a password would deny.
  let limited: Oracle;
  beforeAll(async () => {
    limited = await Oracle.start();
    await limited.same("CONFIG", "SET", "proto-max-bulk-len", "1mb");
    await limited.same("CONFIG", "SET", "requirepass", "secret");
  });
  afterAll(() => limited?.stop());

  test("a bulk over proto-max-bulk-len", async () => {
    await sameUntilClosed(limited, "AUTH secret\r\n*1\r\n$1048577\r\n");
    const reply = await sameUntilClosed(limited, "AUTH secret\r\n*2\r\n$4\r\nECHO\r\n$1048576\r\n" + "x".repeat(1048576) + "\r\nQUIT\r\n");
    expect(reply.startsWith("+OK\r\n$1048576\r\nxxx")).toBe(true);
  });

  test("unauthenticated clients may send at most 10 arguments", async () => {
    const reply = await sameUntilClosed(limited, "*11\r\n");
    expect(reply).toBe("-ERR Protocol error: unauthenticated multibulk length\r\n");
    expect(await sameForPieces(limited, [encodeCommand(["MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e"])], 1)).toBe("-NOAUTH Authentication required.\r\n");
  });

  test("unauthenticated clients may send bulks of at most 16384 bytes", async () => {
    const reply = await sameUntilClosed(limited, "*2\r\n$4\r\nAUTH\r\n$16385\r\n");
    expect(reply).toBe("-ERR Protocol error: unauthenticated bulk length\r\n");
  });

  test("the limits end with AUTH", async () => {
    const input = concat([bytes("AUTH secret\r\n"), encodeCommand(["ECHO", "x".repeat(20000)]), encodeCommand(Array(11).fill("y")), bytes("QUIT\r\n")]);
    await sameUntilClosed(limited, input);
  });
});

describe("NUL bytes inside request lines", () => {
  // Redis finds line ends with strchr, which stops at a NUL: such a request is incomplete
  // until more than 64KB are buffered (then it is a 'too big' error, tested above).
  const cases = [
    "*1\x00\r\n$4\r\nPING\r\n",
    "*1\r\n$4\x00\r\nPING\r\n",
    "*1\r\n\x00\r\n",
    "PING\x00\r\nPING\r\n",
    "ECHO a\x00b\r\n",
    'ECHO "a\x00b"\r\n',
    "\x00PING\r\n",
  ];
  for (const input of cases) {
    test(JSON.stringify(input), async () => {
      await sameSilence(o, input);
    });
  }
});

describe("large and binary payloads", () => {
  const TEN_MB = 10 * 1024 * 1024;

  function bigValue(): Uint8Array {
    const v = new Uint8Array(TEN_MB);
    for (let i = 0; i < v.length; i++) v[i] = (i * 2654435761) >>> 24;
    v.set(bytes("\r\n\x00\xff"), 1000);
    return v;
  }

  /** Write `data` in 16KB pieces, yielding every 32 pieces so that reads stay small. */
  async function writeInPieces(c: RespConn, data: Uint8Array): Promise<void> {
    let n = 0;
    for (let i = 0; i < data.length; i += 16384) {
      c.write(data.subarray(i, i + 16384));
      if (++n % 32 === 0) await tick();
    }
  }

  async function bigRoundTrip(request: Uint8Array, replies: number): Promise<string> {
    const [r, b] = await Promise.all([RespConn.connect(o.redis.port), RespConn.connect(o.redbun.port)]);
    try {
      await Promise.all([writeInPieces(r, request), writeInPieces(b, request)]);
      const [want, got] = await Promise.all([r.readReplies(replies, 60000), b.readReplies(replies, 60000)]);
      expectSameLongText(got, want);
      return want;
    } finally {
      r.close();
      b.close();
    }
  }

  test("ECHO of a 10 MB value sent in many small writes", async () => {
    const reply = await bigRoundTrip(encodeCommand(["ECHO", bigValue()]), 1);
    expect(reply.length).toBe(`$${TEN_MB}\r\n`.length + TEN_MB + 2);
  }, 60000);

  test("SET then GET of a 10 MB value sent in many small writes", async () => {
    const request = concat([encodeCommand(["SET", "big:\x00\xff", bigValue()]), encodeCommand(["GET", "big:\x00\xff"]), encodeCommand(["DEL", "big:\x00\xff"])]);
    const reply = await bigRoundTrip(request, 3);
    expect(reply.length).toBe("+OK\r\n".length + `$${TEN_MB}\r\n`.length + TEN_MB + 2 + ":1\r\n".length);
  }, 60000);

  test("binary keys and values: NUL, 0xff, CR and LF", async () => {
    const key = "bin:\x00\r\n\xff";
    const value = "\r\n\x00\xff\r\n*1\r\n$4\r\nPING\r\n";
    await o.sameAll([
      ["ECHO", value],
      ["SET", key, value],
      ["GET", key],
      ["EXISTS", key, "bin:"],
      ["STRLEN", key],
      ["APPEND", key, "\x00"],
      ["GET", key],
      ["DEL", key],
      ["GET", key],
    ]);
  });

  test("every byte value round-trips as a value and as a key", async () => {
    const all = new Uint8Array(256);
    for (let i = 0; i < 256; i++) all[i] = i;
    await o.same("ECHO", all);
    await o.same("SET", all, all);
    await o.same("GET", all);
    await o.same("DEL", all);
  });
});

describe("garbage", () => {
  test("seeded random bytes: same output as Redis, and the server keeps serving", async () => {
    const rand = rng(seedFor("garbage"));
    // Protocol characters and a few letters (never enough to spell a real command name).
    const alphabet = bytes("*$\r\n\n0123456789-+ \t\"'\\x\x00\xff\x0bq");
    for (let batch = 0; batch < 4; batch++) {
      const inputs: Uint8Array[] = [];
      for (let i = 0; i < 40; i++) {
        const n = 1 + Math.floor(rand() * 300);
        const g = new Uint8Array(n);
        for (let k = 0; k < n; k++) g[k] = rand() < 0.85 ? alphabet[Math.floor(rand() * alphabet.length)]! : Math.floor(rand() * 256);
        inputs.push(g);
      }
      const pairs = await Promise.all(inputs.map(() => Promise.all([RespConn.connect(o.redis.port), RespConn.connect(o.redbun.port)])));
      pairs.forEach(([r, b], i) => {
        r.write(inputs[i]!);
        b.write(inputs[i]!);
      });
      // Garbage may leave a command incomplete, which nothing signals: give both servers
      // the same short while, then compare what each sent and whether it closed.
      await Bun.sleep(300);
      pairs.forEach(([r, b], i) => {
        const want = { input: JSON.stringify(Buffer.from(inputs[i]!).toString("latin1")), closed: r.isClosed, bytes: r.bufferedBytes };
        expect({ input: want.input, closed: b.isClosed, bytes: b.bufferedBytes }).toEqual(want);
      });
      const outputs = await Promise.all(
        pairs.map(async ([r, b]) => {
          const n = r.bufferedBytes;
          return [n > 0 ? await r.readBytes(n) : new Uint8Array(0), n > 0 ? await b.readBytes(n) : new Uint8Array(0)];
        }),
      );
      outputs.forEach(([want, got], i) => {
        expect({ i, out: Buffer.from(got!).toString("latin1") }).toEqual({ i, out: Buffer.from(want!).toString("latin1") });
      });
      for (const [r, b] of pairs) {
        r.close();
        b.close();
      }
    }
    const fresh = await RespConn.connect(o.redbun.port);
    expect(await fresh.call("PING")).toBe("+PONG\r\n");
    fresh.close();
  }, 30000);
});

describe("slow readers", () => {
  /** ECHO replies of 64KB, each starting with its index so that order can be checked. */
  function echoes(count: number): [Uint8Array, string[]] {
    const requests: Uint8Array[] = [];
    const replies: string[] = [];
    for (let i = 0; i < count; i++) {
      const value = `#${i}#`.padEnd(65536, String.fromCharCode(97 + (i % 26)));
      requests.push(encodeCommand(["ECHO", value]));
      replies.push(`$65536\r\n${value}\r\n`);
    }
    return [concat(requests), replies];
  }

  test("a client that stops reading gets every reply, in order, once it resumes", async () => {
    // 200 x 64KB = 12.5 MB of replies: well past the socket buffers and the server's
    // output pause threshold.
    const [request, replies] = echoes(200);
    const expected = replies.join("");
    const c = await RespConn.connect(o.redbun.port);
    c.pause();
    c.write(request);
    // While that client is stuck, others are served.
    for (let i = 0; i < 20; i++) {
      expect(await o.b.call("PING")).toBe("+PONG\r\n");
      await tick();
    }
    c.resume();
    expectSameLongText(await c.readReplies(replies.length, 60000), expected);
    // The connection is still usable afterwards.
    c.write(encodeCommand(["PING"]));
    expect(await c.readReplies(1)).toBe("+PONG\r\n");
    c.close();
  }, 60000);

  test("pausing and resuming several times while commands keep arriving", async () => {
    const [request, replies] = echoes(120);
    const c = await RespConn.connect(o.redbun.port);
    const pieces = splitEvery(request, [request.length / 6]);
    for (const piece of pieces) {
      c.pause();
      c.write(piece);
      await Bun.sleep(20);
      c.resume();
      await tick();
    }
    expectSameLongText(await c.readReplies(replies.length, 60000), replies.join(""));
    c.close();
  }, 60000);

  test("the same pipeline against Redis gives the same bytes", async () => {
    const [request, replies] = echoes(80);
    const [r, b] = await Promise.all([RespConn.connect(o.redis.port), RespConn.connect(o.redbun.port)]);
    r.pause();
    b.pause();
    r.write(request);
    b.write(request);
    await Bun.sleep(50);
    r.resume();
    b.resume();
    const [want, got] = await Promise.all([r.readReplies(replies.length, 60000), b.readReplies(replies.length, 60000)]);
    expectSameLongText(got, want);
    r.close();
    b.close();
  }, 60000);
});

/** Compare megabytes of text, reporting the first difference instead of both texts. */
function expectSameLongText(got: string, want: string): void {
  if (got === want) return;
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  const around = (t: string) => JSON.stringify(t.slice(Math.max(0, i - 20), i + 40));
  expect({ length: got.length, firstDifference: i, got: around(got) }).toEqual({ length: want.length, firstDifference: i, got: around(want) });
}

function randomBytes(rand: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}
