import { describe, expect, test } from "bun:test";
import {
  Argv,
  NEED_MORE,
  PROTOCOL_ERROR,
  PROTO_INLINE_MAX_SIZE,
  ParseState,
  latin1,
  parseCommand,
} from "../../src/resp/parser.ts";
import { encodeCommand, rng } from "../oracle/harness.ts";
import { bytes, parseAll, parseChunks, splitEvery } from "../fixtures/resp.ts";

/** Parse exactly one command from a string; returns the result code, argv and state. */
function parseOne(input: string | Uint8Array, setup?: (s: ParseState) => void) {
  const buf = typeof input === "string" ? bytes(input) : input;
  const argv = new Argv();
  const state = new ParseState();
  setup?.(state);
  const next = parseCommand(buf, 0, buf.length, argv, state);
  return { next, argv, state, buf };
}

function errorOf(input: string | Uint8Array, setup?: (s: ParseState) => void): string | null {
  return parseAll(input, setup).error;
}

const P = "Protocol error: ";

describe("multibulk requests", () => {
  test("one command: arguments are views into the buffer", () => {
    const { next, argv, buf } = parseOne("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n");
    expect(next).toBe(buf.length);
    expect(argv.count).toBe(3);
    expect(argv.buf).toBe(buf);
    expect([argv.str(0), argv.str(1), argv.str(2)]).toEqual(["SET", "k", "value"]);
    expect(argv.start[2]).toBe(buf.length - 7);
    expect(argv.len[2]).toBe(5);
  });

  test("a pipeline parses one command per call, each ending where the next starts", () => {
    const input = "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n*1\r\n$4\r\nPING\r\n";
    const buf = bytes(input);
    const argv = new Argv();
    const state = new ParseState();
    const ends: number[] = [];
    for (let pos = 0; pos < buf.length; ) {
      pos = parseCommand(buf, pos, buf.length, argv, state);
      ends.push(pos);
    }
    expect(ends).toEqual([14, 36, 50]);
    expect(parseAll(input).commands).toEqual([["PING"], ["ECHO", "hi"], ["PING"]]);
  });

  test("parsing honours the end offset, not the buffer's length", () => {
    const buf = bytes("*1\r\n$4\r\nPING\r\nGARBAGE");
    const argv = new Argv();
    const state = new ParseState();
    expect(parseCommand(buf, 0, 10, argv, state)).toBe(NEED_MORE);
    expect(parseCommand(buf, 0, 14, argv, state)).toBe(14);
  });

  test("binary payloads: NUL, 0xff and CRLF inside arguments", () => {
    const value = "a\r\nb\x00c\xff\r\n";
    const r = parseAll(encodeCommand(["SET", "k\x00\xff", value]));
    expect(r.commands).toEqual([["SET", "k\x00\xff", value]]);
  });

  test("empty arguments and an empty command name", () => {
    expect(parseAll("*2\r\n$0\r\n\r\n$0\r\n\r\n").commands).toEqual([["", ""]]);
  });

  test("*0 and negative counts are consumed without a command", () => {
    const r = parseAll("*0\r\n*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n");
    expect(r.commands).toEqual([["PING"]]);
    expect(r.error).toBeNull();
    const { next, argv } = parseOne("*0\r\n");
    expect(next).toBe(4);
    expect(argv.count).toBe(0);
  });

  test("the two bytes after a payload are skipped unchecked, as Redis does", () => {
    expect(parseAll("*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n").commands).toEqual([["PING"], ["PING"]]);
  });

  test("more than 16 arguments grow the argv arrays", () => {
    const args = Array.from({ length: 1000 }, (_, i) => `arg${i}`);
    const r = parseAll(encodeCommand(args));
    expect(r.commands).toEqual([args]);
  });

  test("the largest bulk length accepted is proto-max-bulk-len", () => {
    const ok = parseOne("*1\r\n$536870912\r\n");
    expect(ok.next).toBe(NEED_MORE);
    expect(ok.state.wantEnd).toBe(16 + 536870912 + 2);
    expect(errorOf("*1\r\n$536870913\r\n")).toBe(P + "invalid bulk length");
    expect(errorOf("*1\r\n$11\r\n", (s) => (s.maxBulkLen = 10))).toBe(P + "invalid bulk length");
    expect(parseAll("*1\r\n$10\r\n0123456789\r\n", (s) => (s.maxBulkLen = 10)).commands).toEqual([["0123456789"]]);
  });

  test("the largest multibulk count accepted is INT_MAX", () => {
    expect(parseOne("*2147483647\r\n").next).toBe(NEED_MORE);
    expect(errorOf("*2147483648\r\n")).toBe(P + "invalid multibulk length");
  });
});

describe("protocol errors carry Redis's exact text", () => {
  const cases: [string, string][] = [
    ["*abc\r\n", "invalid multibulk length"],
    ["*3000000000\r\n", "invalid multibulk length"],
    ["*\r\n", "invalid multibulk length"],
    ["*+1\r\n", "invalid multibulk length"],
    ["*01\r\n", "invalid multibulk length"],
    ["*1 \r\n", "invalid multibulk length"],
    ["*99999999999999999999\r\n", "invalid multibulk length"],
    ["*1\r\n$-1\r\n", "invalid bulk length"],
    ["*1\r\n$-0\r\n", "invalid bulk length"],
    ["*1\r\n$abc\r\n", "invalid bulk length"],
    ["*1\r\n$\r\n", "invalid bulk length"],
    ["*1\r\n$+4\r\n", "invalid bulk length"],
    ["*1\r\n$04\r\n", "invalid bulk length"],
    ["*1\r\n$99999999999999999999\r\n", "invalid bulk length"],
    ["*1\r\nx3\r\n", "expected '$', got 'x'"],
    ["*2\r\n$1\r\na\r\n:1\r\n", "expected '$', got ':'"],
    ["*1\r\n\xff\r\n", "expected '$', got '\xff'"],
    ["PING \"abc\r\n", "unbalanced quotes in request"],
    ["PING 'abc\r\n", "unbalanced quotes in request"],
    ["PING \"abc\"d\r\n", "unbalanced quotes in request"],
    ["PING 'abc'd\r\n", "unbalanced quotes in request"],
    ["ECHO \"a\"\"b\"\r\n", "unbalanced quotes in request"],
    ["ECHO \"\\\"\r\n", "unbalanced quotes in request"],
  ];
  for (const [input, message] of cases) {
    test(JSON.stringify(input), () => {
      expect(errorOf(input)).toBe(P + message);
    });
  }

  test("commands before the error in the same buffer are parsed", () => {
    const r = parseAll("PING\r\n*1\r\n$4\r\nPING\r\n*abc\r\nPING\r\n");
    expect(r.commands).toEqual([["PING"], ["PING"]]);
    expect(r.error).toBe(P + "invalid multibulk length");
  });

  test("too big inline request: over 64KB without a newline", () => {
    expect(parseOne("x".repeat(PROTO_INLINE_MAX_SIZE)).next).toBe(NEED_MORE);
    expect(errorOf("x".repeat(PROTO_INLINE_MAX_SIZE + 1))).toBe(P + "too big inline request");
  });

  test("too big mbulk count string: a '*' line over 64KB without CR", () => {
    expect(parseOne("*" + "1".repeat(PROTO_INLINE_MAX_SIZE - 1)).next).toBe(NEED_MORE);
    expect(errorOf("*" + "1".repeat(PROTO_INLINE_MAX_SIZE))).toBe(P + "too big mbulk count string");
  });

  test("too big bulk count string: a '$' line over 64KB without CR", () => {
    expect(parseOne("*1\r\n$" + "1".repeat(PROTO_INLINE_MAX_SIZE - 1)).next).toBe(NEED_MORE);
    expect(errorOf("*1\r\n$" + "1".repeat(PROTO_INLINE_MAX_SIZE))).toBe(P + "too big bulk count string");
    expect(errorOf("*1\r\n" + "x".repeat(PROTO_INLINE_MAX_SIZE + 1))).toBe(P + "too big bulk count string");
  });

  test("unauthenticated clients: at most 10 arguments of at most 16384 bytes", () => {
    const auth = (s: ParseState) => (s.authRequired = true);
    expect(parseAll(encodeCommand(Array(10).fill("a")), auth).commands.length).toBe(1);
    expect(errorOf("*11\r\n", auth)).toBe(P + "unauthenticated multibulk length");
    expect(parseAll(encodeCommand(["AUTH", "x".repeat(16384)]), auth).commands.length).toBe(1);
    expect(errorOf("*2\r\n$4\r\nAUTH\r\n$16385\r\n", auth)).toBe(P + "unauthenticated bulk length");
    expect(errorOf("*11\r\n")).toBeNull();
  });
});

describe("NUL bytes in lines behave like Redis's strchr: the line is not complete", () => {
  // Redis finds CR/LF with strchr, which stops at the first NUL, so such a request waits
  // for more input until the 64KB limit is crossed.
  const waiting = [
    "*1\x00\r\n$4\r\nPING\r\n",
    "*1\r\n$4\x00\r\nPING\r\n",
    "*1\r\n\x00\r\n",
    "*1\r\n$\x00\r\n",
    "PING\x00\r\nPING\r\n",
    "ECHO a\x00b\r\n",
    'ECHO "a\x00b"\r\n',
    "\x00PING\r\n",
  ];
  for (const input of waiting) {
    test(JSON.stringify(input), () => {
      const r = parseAll(input);
      expect(r.error).toBeNull();
      expect(r.commands).toEqual([]);
      expect(r.pendingBytes).toBe(bytes(input).length);
    });
  }

  test("and fail with the 'too big' error once over 64KB", () => {
    const pad = "x".repeat(PROTO_INLINE_MAX_SIZE);
    expect(errorOf("*1\x00\r\n" + pad)).toBe(P + "too big mbulk count string");
    expect(errorOf("*1\r\n$1\x00\r\n" + pad)).toBe(P + "too big bulk count string");
    expect(errorOf("PING\x00\r\n" + pad)).toBe(P + "too big inline request");
  });

  test("a NUL inside a payload is data", () => {
    expect(parseAll("*2\r\n$4\r\nECHO\r\n$3\r\na\x00b\r\n").commands).toEqual([["ECHO", "a\x00b"]]);
  });
});

describe("inline requests", () => {
  const cases: [string, string[][]][] = [
    ["PING\r\n", [["PING"]]],
    ["PING\n", [["PING"]]],
    ["PING\nPING\r\n", [["PING"], ["PING"]]],
    ["\r\n\n\nPING\r\n", [["PING"]]],
    ["   \t \r\n", []],
    ["  ECHO   hello  \r\n", [["ECHO", "hello"]]],
    ['ECHO "a\\x41b"\r\n', [["ECHO", "aAb"]]],
    ['ECHO "\\x4"\r\n', [["ECHO", "x4"]]],
    ['ECHO "\\xzz"\r\n', [["ECHO", "xzz"]]],
    ['ECHO "\\xff\\x00"\r\n', [["ECHO", "\xff\x00"]]],
    ['ECHO "\\n\\r\\t\\b\\a\\z\\\\\\""\r\n', [["ECHO", "\n\r\t\b\x07z\\\""]]],
    ["ECHO 'a b'\r\n", [["ECHO", "a b"]]],
    ["ECHO 'a\\'b'\r\n", [["ECHO", "a'b"]]],
    ["ECHO 'a\\nb'\r\n", [["ECHO", "a\\nb"]]],
    ["ECHO a\"b c\"\r\n", [["ECHO", "ab c"]]],
    ["ECHO ''\r\n", [["ECHO", ""]]],
    ['ECHO ""\r\n', [["ECHO", ""]]],
    ['ECHO "a"\tb\r\n', [["ECHO", "a", "b"]]],
    // \v and \f separate arguments only between them, not inside an unquoted one.
    ["ECHO a\x0bb\r\n", [["ECHO", "a\x0bb"]]],
    ["ECHO a\x0cb\r\n", [["ECHO", "a\x0cb"]]],
    ["ECHO \x0b a\r\n", [["ECHO", "a"]]],
    ['ECHO "a"\x0b\r\n', [["ECHO", "a"]]],
    ["ECHO a\rb\r\n", [["ECHO", "a", "b"]]],
    ["ECHO \xff\xfe\r\n", [["ECHO", "\xff\xfe"]]],
  ];
  for (const [input, commands] of cases) {
    test(JSON.stringify(input), () => {
      const r = parseAll(input);
      expect(r.error).toBeNull();
      expect(r.commands).toEqual(commands);
      expect(r.pendingBytes).toBe(0);
    });
  }

  test("a line without its newline waits", () => {
    const r = parseOne("PING");
    expect(r.next).toBe(NEED_MORE);
    expect(r.state.wantEnd).toBe(5);
  });

  test("a line of exactly 64KB is accepted", () => {
    const line = "ECHO " + "x".repeat(PROTO_INLINE_MAX_SIZE - 5);
    expect(parseAll(line + "\n").commands[0]![1]!.length).toBe(PROTO_INLINE_MAX_SIZE - 5);
  });

  test("inline arguments live in their own buffer (they are unescaped copies)", () => {
    const { argv, buf } = parseOne('ECHO "a\\x41"\r\n');
    expect(argv.buf).not.toBe(buf);
    expect(argv.str(1)).toBe("aA");
  });
});

describe("resumable parsing", () => {
  const pipeline = new Uint8Array(
    Buffer.concat([
      encodeCommand(["SET", "key:\x00\xff", "v\r\n".repeat(20)]),
      encodeCommand(["GET", "key:\x00\xff"]),
      bytes("PING\r\nECHO 'a b'\n"),
      encodeCommand(["MSET", "a", "1", "b", "", "c", "3"]),
    ]),
  );
  const expected = [
    ["SET", "key:\x00\xff", "v\r\n".repeat(20)],
    ["GET", "key:\x00\xff"],
    ["PING"],
    ["ECHO", "a b"],
    ["MSET", "a", "1", "b", "", "c", "3"],
  ];

  test("split at every byte boundary", () => {
    for (let k = 0; k <= pipeline.length; k++) {
      const r = parseChunks([pipeline.subarray(0, k), pipeline.subarray(k)]);
      expect({ k, commands: r.commands, error: r.error }).toEqual({ k, commands: expected, error: null });
      expect(r.pendingBytes).toBe(0);
    }
  });

  test("fed one byte at a time", () => {
    const r = parseChunks(splitEvery(pipeline, [1]));
    expect(r.commands).toEqual(expected);
  });

  test("seeded random chunk sizes", () => {
    const seed = Number(process.env.SEED ?? Date.now() % 100000);
    const rand = rng(seed);
    try {
      for (let round = 0; round < 200; round++) {
        const sizes = Array.from({ length: 8 }, () => 1 + Math.floor(rand() * 40));
        expect(parseChunks(splitEvery(pipeline, sizes)).commands).toEqual(expected);
      }
    } catch (e) {
      console.error(`parser chunk fuzz failed with SEED=${seed}`);
      throw e;
    }
  });

  test("wantEnd names the exact end of a bulk once its header arrived", () => {
    const { next, state } = parseOne("*2\r\n$3\r\nGET\r\n$10\r\nab");
    expect(next).toBe(NEED_MORE);
    expect(state.wantEnd).toBe(13 + 5 + 10 + 2);
  });

  test("a 10 MB bulk arriving in 1000 pieces is parsed once it is complete", () => {
    const value = new Uint8Array(10 * 1024 * 1024);
    for (let i = 0; i < value.length; i++) value[i] = (i * 31) & 0xff;
    const input = encodeCommand(["SET", "big", value]);
    const r = parseChunks(splitEvery(input, [Math.ceil(input.length / 1000)]));
    expect(r.commands.length).toBe(1);
    // Without wantEnd every piece would re-scan the command: about 1000 calls.
    expect(r.parseCalls).toBeLessThan(5);
    expect(Buffer.from(r.commands[0]![2]!, "latin1").equals(Buffer.from(value))).toBe(true);
  });

  test("errors are found wherever the bytes are split", () => {
    const input = bytes("*1\r\n$4\r\nPING\r\n*1\r\n$abc\r\n");
    for (let k = 0; k <= input.length; k++) {
      const r = parseChunks([input.subarray(0, k), input.subarray(k)]);
      expect(r.commands).toEqual([["PING"]]);
      expect(r.error).toBe(P + "invalid bulk length");
    }
  });

  test("seeded garbage never throws and never reports progress it did not make", () => {
    const seed = Number(process.env.SEED ?? Date.now() % 100000);
    const rand = rng(seed);
    const argv = new Argv();
    const state = new ParseState();
    try {
      for (let round = 0; round < 2000; round++) {
        const n = 1 + Math.floor(rand() * 64);
        const buf = new Uint8Array(n);
        // Mostly protocol characters, so the parser gets deep into its states.
        const alphabet = bytes("*$\r\n0123456789-abc \"'\\x\x00\xff");
        for (let i = 0; i < n; i++) buf[i] = rand() < 0.8 ? alphabet[Math.floor(rand() * alphabet.length)]! : Math.floor(rand() * 256);
        let pos = 0;
        while (pos < n) {
          const next = parseCommand(buf, pos, n, argv, state);
          if (next === NEED_MORE) {
            expect(state.wantEnd).toBeGreaterThan(n);
            break;
          }
          if (next === PROTOCOL_ERROR) {
            expect(state.error.startsWith(P)).toBe(true);
            break;
          }
          expect(next).toBeGreaterThan(pos);
          expect(next).toBeLessThanOrEqual(n);
          for (let i = 0; i < argv.count; i++) {
            expect(argv.start[i]! + argv.len[i]!).toBeLessThanOrEqual(argv.buf.length);
          }
          pos = next;
        }
      }
    } catch (e) {
      console.error(`parser garbage fuzz failed with SEED=${seed}`);
      throw e;
    }
  });
});

describe("Argv accessors", () => {
  const { argv, buf } = parseOne(encodeCommand(["GeT", "k\xe9y", "\x00\xff\x80", "HELLO"]));

  test("str is latin1: one char per byte", () => {
    expect(argv.str(1)).toBe("k\xe9y");
    expect(argv.str(2)).toBe("\x00\xff\x80");
    expect(latin1(buf, argv.start[1]!, argv.len[1]!)).toBe("k\xe9y");
  });

  test("copy is a fresh array even when the input is a Buffer (socket chunks are)", () => {
    const chunk = Buffer.from(encodeCommand(["SET", "k", "value"]));
    const a = new Argv();
    parseCommand(chunk, 0, chunk.length, a, new ParseState());
    const copy = a.copy(2);
    chunk.fill(0);
    expect(latin1(copy, 0, copy.length)).toBe("value");
    expect(copy.buffer.byteLength).toBe(5);
  });

  test("view shares the buffer, copy does not", () => {
    const view = argv.view(2);
    const copy = argv.copy(2);
    expect([...view]).toEqual([0, 255, 128]);
    expect([...copy]).toEqual([0, 255, 128]);
    expect(view.buffer).toBe(buf.buffer);
    expect(copy.buffer).not.toBe(buf.buffer);
    buf[argv.start[2]!] = 7;
    expect(view[0]).toBe(7);
    expect(copy[0]).toBe(0);
    buf[argv.start[2]!] = 0;
  });

  test("is compares case-insensitively with a lower-case word", () => {
    expect(argv.is(0, "get")).toBe(true);
    expect(argv.is(0, "ge")).toBe(false);
    expect(argv.is(0, "gett")).toBe(false);
    expect(argv.is(0, "set")).toBe(false);
    expect(argv.is(3, "hello")).toBe(true);
    expect(argv.is(1, "key")).toBe(false);
  });

  test("lower", () => {
    expect(argv.lower(0)).toBe("get");
    expect(argv.lower(3)).toBe("hello");
  });

  test("a new parse resets the count and buffer", () => {
    const other = bytes("*1\r\n$4\r\nPING\r\n");
    const state = new ParseState();
    parseCommand(other, 0, other.length, argv, state);
    expect(argv.count).toBe(1);
    expect(argv.buf).toBe(other);
    expect(argv.str(0)).toBe("PING");
  });
});
