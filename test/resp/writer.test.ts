import { describe, expect, test } from "bun:test";
import { CRLF, EMPTY_ARRAY, EMPTY_BULK, OK, PONG, QUEUED, ReplyWriter, encode } from "../../src/resp/writer.ts";
import { ERR } from "../../src/resp/errors.ts";
import { bytes, text } from "../fixtures/resp.ts";

/** Run `build` against a fresh writer speaking `resp`; returns the bytes as latin1 text. */
function out(resp: 2 | 3, build: (w: ReplyWriter) => void, initialBytes?: number): string {
  const w = new ReplyWriter(initialBytes);
  w.resp = resp;
  build(w);
  return text(w.bytes());
}

/** The same bytes in both protocols. */
function both(build: (w: ReplyWriter) => void): string {
  const two = out(2, build);
  expect(out(3, build)).toBe(two);
  return two;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER; // 2^53 - 1

describe("pre-encoded replies", () => {
  test("constants", () => {
    expect(text(OK)).toBe("+OK\r\n");
    expect(text(PONG)).toBe("+PONG\r\n");
    expect(text(QUEUED)).toBe("+QUEUED\r\n");
    expect(text(CRLF)).toBe("\r\n");
    expect(text(EMPTY_BULK)).toBe("$0\r\n\r\n");
    expect(text(EMPTY_ARRAY)).toBe("*0\r\n");
  });

  test("addRaw, short and long", () => {
    expect(both((w) => w.addRaw(OK))).toBe("+OK\r\n");
    const long = "+" + "x".repeat(100) + "\r\n";
    expect(both((w) => w.addRaw(encode(long)))).toBe(long);
    expect(both((w) => w.addRaw(new Uint8Array(0)))).toBe("");
  });
});

describe("integers", () => {
  const cases: [number, string][] = [
    [0, ":0\r\n"],
    [1, ":1\r\n"],
    [9, ":9\r\n"],
    [10, ":10\r\n"],
    [1024, ":1024\r\n"],
    [1025, ":1025\r\n"],
    [-1, ":-1\r\n"],
    [-9, ":-9\r\n"],
    [-10, ":-10\r\n"],
    [-1024, ":-1024\r\n"],
    [1e15, ":1000000000000000\r\n"],
    [2 ** 31, ":2147483648\r\n"],
    [-(2 ** 31), ":-2147483648\r\n"],
    [2 ** 32 - 1, ":4294967295\r\n"],
    [MAX_SAFE, ":9007199254740991\r\n"],
    [-MAX_SAFE, ":-9007199254740991\r\n"],
  ];
  for (const [v, want] of cases) {
    test(`addInteger(${v})`, () => {
      expect(both((w) => w.addInteger(v))).toBe(want);
    });
  }

  test("addInteger of -0 is :0", () => {
    expect(both((w) => w.addInteger(-0))).toBe(":0\r\n");
  });

  test("addInteger beyond 2^53 writes the double's exact value, never garbage digits", () => {
    expect(both((w) => w.addInteger(2 ** 53))).toBe(":9007199254740992\r\n");
    expect(both((w) => w.addInteger(2 ** 63))).toBe(":9223372036854775808\r\n");
    expect(both((w) => w.addInteger(-(2 ** 63)))).toBe(":-9223372036854775808\r\n");
  });

  test("addBigInt at the int64 bounds", () => {
    expect(both((w) => w.addBigInt(9223372036854775807n))).toBe(":9223372036854775807\r\n");
    expect(both((w) => w.addBigInt(-9223372036854775808n))).toBe(":-9223372036854775808\r\n");
    expect(both((w) => w.addBigInt(0n))).toBe(":0\r\n");
    expect(both((w) => w.addBigInt(-1n))).toBe(":-1\r\n");
  });

  const bulkCases: [number | bigint, string][] = [
    [0, "$1\r\n0\r\n"],
    [7, "$1\r\n7\r\n"],
    [-7, "$2\r\n-7\r\n"],
    [123456789, "$9\r\n123456789\r\n"],
    [1234567890, "$10\r\n1234567890\r\n"],
    [-123456789, "$10\r\n-123456789\r\n"],
    [-12345678, "$9\r\n-12345678\r\n"],
    [MAX_SAFE, "$16\r\n9007199254740991\r\n"],
    [-MAX_SAFE, "$17\r\n-9007199254740991\r\n"],
    [9223372036854775807n, "$19\r\n9223372036854775807\r\n"],
    [-9223372036854775808n, "$20\r\n-9223372036854775808\r\n"],
  ];
  for (const [v, want] of bulkCases) {
    test(`addBulkInteger(${v})`, () => {
      expect(both((w) => w.addBulkInteger(v))).toBe(want);
    });
  }

  test("addBulkInteger after other replies keeps them intact", () => {
    expect(both((w) => {
      w.addArrayLen(3);
      w.addBulkInteger(5);
      w.addBulkInteger(-1234567890123);
      w.addBulkInteger(42);
    })).toBe("*3\r\n$1\r\n5\r\n$14\r\n-1234567890123\r\n$2\r\n42\r\n");
  });
});

describe("strings and errors", () => {
  test("addSimple", () => {
    expect(both((w) => w.addSimple("OK"))).toBe("+OK\r\n");
    expect(both((w) => w.addSimple(""))).toBe("+\r\n");
  });

  test("addBulk and addBulkView are binary-safe", () => {
    const v = bytes("a\r\n\x00\xff");
    expect(both((w) => w.addBulk(v))).toBe("$5\r\na\r\n\x00\xff\r\n");
    expect(both((w) => w.addBulk(new Uint8Array(0)))).toBe("$0\r\n\r\n");
    const src = bytes("0123456789abcdefghijklmnopqrstuvwxyz");
    expect(both((w) => w.addBulkView(src, 2, 3))).toBe("$3\r\n234\r\n");
    expect(both((w) => w.addBulkView(src, 1, 30))).toBe("$30\r\n" + "123456789abcdefghijklmnopqrstu" + "\r\n");
  });

  test("addBulkLatin1 writes one byte per char", () => {
    expect(both((w) => w.addBulkLatin1("k\xe9\x00\xff"))).toBe("$4\r\nk\xe9\x00\xff\r\n");
  });

  test("addBulkText counts UTF-8 bytes", () => {
    const s = "h\u00e9llo \u20ac \u{1f600}";
    const utf8 = Buffer.from(s, "utf8");
    expect(both((w) => w.addBulkText(s))).toBe(`$${utf8.length}\r\n${utf8.toString("latin1")}\r\n`);
  });

  test("addError prefixes '-', replaces CR and LF, and reports the message", () => {
    const seen: string[] = [];
    const w = new ReplyWriter();
    w.onError = (m) => seen.push(m);
    w.addError("ERR bad\r\nthing");
    w.addError("WRONGTYPE x");
    expect(text(w.bytes())).toBe("-ERR bad  thing\r\n-WRONGTYPE x\r\n");
    expect(seen).toEqual(["ERR bad  thing", "WRONGTYPE x"]);
  });

  test("addErrorBytes writes the pre-encoded error and reports its text", () => {
    const seen: string[] = [];
    const w = new ReplyWriter();
    w.onError = (m) => seen.push(m);
    w.addErrorBytes(ERR.syntax);
    expect(text(w.bytes())).toBe("-ERR syntax error\r\n");
    expect(seen).toEqual(["ERR syntax error"]);
  });

  test("every shared error is one well-formed error line", () => {
    for (const [name, e] of Object.entries(ERR)) {
      const s = text(e);
      expect({ name, ok: /^-[A-Z]+ [^\r\n]+\r\n$/.test(s) }).toEqual({ name, ok: true });
    }
  });
});

describe("RESP3 types and their RESP2 shapes", () => {
  const cases: [string, (w: ReplyWriter) => void, string, string][] = [
    ["addNull", (w) => w.addNull(), "$-1\r\n", "_\r\n"],
    ["addNullArray", (w) => w.addNullArray(), "*-1\r\n", "_\r\n"],
    ["addArrayLen", (w) => w.addArrayLen(3), "*3\r\n", "*3\r\n"],
    ["addArrayLen(0)", (w) => w.addArrayLen(0), "*0\r\n", "*0\r\n"],
    ["addArrayLen(123456)", (w) => w.addArrayLen(123456), "*123456\r\n", "*123456\r\n"],
    ["addMapLen", (w) => w.addMapLen(2), "*4\r\n", "%2\r\n"],
    ["addMapLen(0)", (w) => w.addMapLen(0), "*0\r\n", "%0\r\n"],
    ["addSetLen", (w) => w.addSetLen(5), "*5\r\n", "~5\r\n"],
    ["addPushLen", (w) => w.addPushLen(3), "*3\r\n", ">3\r\n"],
    ["addAttributeLen", (w) => w.addAttributeLen(1), "", "|1\r\n"],
    ["addBool(true)", (w) => w.addBool(true), ":1\r\n", "#t\r\n"],
    ["addBool(false)", (w) => w.addBool(false), ":0\r\n", "#f\r\n"],
    ["addBigNumber", (w) => w.addBigNumber("-3492890328409238509324850943850943825024385"), "$44\r\n-3492890328409238509324850943850943825024385\r\n", "(-3492890328409238509324850943850943825024385\r\n"],
    ["addVerbatim", (w) => w.addVerbatim("line 1\r\nline 2"), "$14\r\nline 1\r\nline 2\r\n", "=18\r\ntxt:line 1\r\nline 2\r\n"],
    ["addVerbatim(mkd)", (w) => w.addVerbatim("# t\u00e9", "mkd"), "$5\r\n# t\xc3\xa9\r\n", "=9\r\nmkd:# t\xc3\xa9\r\n"],
    // Doubles as Redis 7.0 prints them (%.17g; inf spelled out), checked on the real server with ZSCORE.
    ["addDouble(1.5)", (w) => w.addDouble(1.5), "$3\r\n1.5\r\n", ",1.5\r\n"],
    ["addDouble(3)", (w) => w.addDouble(3), "$1\r\n3\r\n", ",3\r\n"],
    ["addDouble(inf)", (w) => w.addDouble(Infinity), "$3\r\ninf\r\n", ",inf\r\n"],
    ["addDouble(-inf)", (w) => w.addDouble(-Infinity), "$4\r\n-inf\r\n", ",-inf\r\n"],
    ["addDouble(0.1)", (w) => w.addDouble(0.1), "$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n"],
    ["addDouble(1e300)", (w) => w.addDouble(1e300), "$23\r\n1.0000000000000001e+300\r\n", ",1.0000000000000001e+300\r\n"],
  ];
  for (const [name, build, resp2, resp3] of cases) {
    test(name, () => {
      expect(out(2, build)).toBe(resp2);
      expect(out(3, build)).toBe(resp3);
    });
  }
});

describe("deferred lengths", () => {
  /** An aggregate whose length is known only after its items. */
  function deferred(type: "array" | "map" | "set", items: number, w: ReplyWriter): void {
    const at = w.deferLen();
    for (let i = 0; i < items; i++) {
      w.addBulkLatin1(`k${i}`);
      if (type === "map") w.addInteger(i);
    }
    w.setDeferredLen(at, type, items);
  }

  test("array, map and set in both protocols", () => {
    expect(out(2, (w) => deferred("array", 2, w))).toBe("*2\r\n$2\r\nk0\r\n$2\r\nk1\r\n");
    expect(out(3, (w) => deferred("array", 2, w))).toBe("*2\r\n$2\r\nk0\r\n$2\r\nk1\r\n");
    expect(out(2, (w) => deferred("map", 2, w))).toBe("*4\r\n$2\r\nk0\r\n:0\r\n$2\r\nk1\r\n:1\r\n");
    expect(out(3, (w) => deferred("map", 2, w))).toBe("%2\r\n$2\r\nk0\r\n:0\r\n$2\r\nk1\r\n:1\r\n");
    expect(out(2, (w) => deferred("set", 1, w))).toBe("*1\r\n$2\r\nk0\r\n");
    expect(out(3, (w) => deferred("set", 1, w))).toBe("~1\r\n$2\r\nk0\r\n");
  });

  test("empty aggregate", () => {
    expect(out(3, (w) => deferred("map", 0, w))).toBe("%0\r\n");
    expect(out(2, (w) => deferred("array", 0, w))).toBe("*0\r\n");
  });

  test("after earlier replies, and with a multi-digit length", () => {
    const s = out(2, (w) => {
      w.addRaw(OK);
      deferred("array", 1500, w);
      w.addRaw(PONG);
    });
    let want = "+OK\r\n*1500\r\n";
    for (let i = 0; i < 1500; i++) want += `$${String(i).length + 1}\r\nk${i}\r\n`;
    expect(s).toBe(want + "+PONG\r\n");
  });

  test("nested: the inner length is set before the outer one", () => {
    const s = out(3, (w) => {
      const outer = w.deferLen();
      w.addBulkLatin1("a");
      const inner = w.deferLen();
      w.addInteger(1);
      w.addInteger(2);
      w.setDeferredLen(inner, "set", 2);
      w.setDeferredLen(outer, "array", 2);
    });
    expect(s).toBe("*2\r\n$1\r\na\r\n~2\r\n:1\r\n:2\r\n");
  });

  test("the header does not fit in the buffer's spare room", () => {
    const w = new ReplyWriter(16);
    const at = w.deferLen();
    for (let i = 0; i < 4; i++) w.addInteger(7);
    expect(w.buf.length).toBe(16);
    w.setDeferredLen(at, "array", 4);
    expect(text(w.bytes())).toBe("*4\r\n:7\r\n:7\r\n:7\r\n:7\r\n");
  });
});

describe("growth past the initial buffer", () => {
  test("one reply larger than the buffer", () => {
    const value = new Uint8Array(100_000);
    for (let i = 0; i < value.length; i++) value[i] = i & 0xff;
    const w = new ReplyWriter(16);
    w.addBulk(value);
    const got = w.bytes();
    expect(text(got.subarray(0, 10))).toBe("$100000\r\n\x00");
    expect(Buffer.from(got.subarray(9, 9 + value.length)).equals(Buffer.from(value))).toBe(true);
    expect(text(got.subarray(got.length - 2))).toBe("\r\n");
  });

  test("many small replies of every kind cross many boundaries", () => {
    const build = (w: ReplyWriter) => {
      for (let i = 0; i < 2000; i++) {
        w.addInteger(i * 7919 - 5000);
        w.addBulkLatin1("key:" + i);
        w.addBulkInteger(-i);
        w.addSimple("OK");
        w.addNull();
        w.addError("ERR e" + i);
        w.addBulkText("\u20ac" + i);
        w.addDouble(1.5);
        w.addBigInt(BigInt(i) * 10000000000000000n);
      }
    };
    expect(out(2, build, 1)).toBe(out(2, build, 1 << 20));
    expect(out(3, build, 7)).toBe(out(3, build, 1 << 20));
  });

  test("a zero-byte initial buffer still grows", () => {
    expect(out(2, (w) => w.addSimple("OK"), 0)).toBe("+OK\r\n");
  });

  test("reset empties the writer and keeps its buffer", () => {
    const w = new ReplyWriter(64);
    w.addBulk(new Uint8Array(1000));
    const grown = w.buf;
    w.reset();
    expect(w.len).toBe(0);
    expect(w.bytes().length).toBe(0);
    w.addRaw(OK);
    expect(w.buf).toBe(grown);
    expect(text(w.bytes())).toBe("+OK\r\n");
  });
});
