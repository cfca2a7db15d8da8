// LZF against its own decompressor and against the real redis-server 7.0: round trips of
// every small size and some large inputs, the output limit, independence from earlier calls,
// corrupt streams that must fail cleanly, and DUMP / DEBUG OBJECT payloads that must hold
// exactly the bytes our compressor produces.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { lzfCompress, lzfDecompress } from "../../src/persistence/lzf.ts";
import { seedFromEnv } from "../oracle/fuzz.ts";
import { RespConn, rng, startRedis, withSeed, type ServerProcess } from "../oracle/harness.ts";
import { readRdbLength } from "../oracle/dump.ts";

type Random = () => number;

/** Bytes written around every output window; any change means a write out of bounds. */
const CANARY = 0xa5;
const GUARD = 16;

const WORDS = ["redis", "bun", "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "0", "1", "42", ", ", ". ", "\n"];

/** Input generators: each makes n bytes of one flavour, from the PRNG. */
const KINDS: Record<string, (r: Random, n: number) => Uint8Array> = {
  random(r, n) {
    const a = new Uint8Array(n);
    for (let i = 0; i < n; i++) a[i] = (r() * 256) | 0;
    return a;
  },
  text(r, n) {
    const a = new Uint8Array(n);
    let i = 0;
    while (i < n) {
      const w = WORDS[(r() * WORDS.length) | 0]!;
      for (let j = 0; j < w.length && i < n; j++) a[i++] = w.charCodeAt(j);
    }
    return a;
  },
  run(r, n) {
    return new Uint8Array(n).fill((r() * 256) | 0);
  },
  periodic(r, n) {
    const period = 1 + ((r() * 40) | 0);
    const a = new Uint8Array(n);
    for (let i = 0; i < n; i++) a[i] = i < period ? (r() * 256) | 0 : a[i - period]!;
    return a;
  },
  // Random stretches mixed with copies of earlier bytes at every distance up to 10000, so that
  // matches meet the 8192-byte window, the 264-byte length cap and each other.
  mixed(r, n) {
    const a = new Uint8Array(n);
    let i = 0;
    while (i < n) {
      const stretch = 1 + ((r() * 300) | 0);
      if (i > 3 && r() < 0.6) {
        const from = Math.max(0, i - 1 - ((r() * 10000) | 0));
        for (let j = 0; j < stretch && i < n; j++) a[i++] = a[from + j]!;
      } else {
        const alphabet = r() < 0.5 ? 4 : 256;
        for (let j = 0; j < stretch && i < n; j++) a[i++] = (r() * alphabet) | 0;
      }
    }
    return a;
  },
};

/** An output window big enough for any input of n bytes (incompressible data grows 1/32). */
const roomFor = (n: number) => n + (n >> 5) + 8;

/** A buffer with `len` usable bytes at `start`, canaries on both sides. */
function guarded(start: number, len: number): Uint8Array {
  return new Uint8Array(start + len + GUARD).fill(CANARY);
}

function expectCanaries(buf: Uint8Array, start: number, len: number): void {
  for (let i = 0; i < start; i++) if (buf[i] !== CANARY) throw new Error(`byte ${i} before the window was written`);
  for (let i = start + len; i < buf.length; i++) if (buf[i] !== CANARY) throw new Error(`byte ${i} after the window was written`);
}

/** Compressed bytes of input under limit, or null when it does not fit. Checks the window. */
function compress(input: Uint8Array, limit: number, outStart = 0): Uint8Array | null {
  const out = guarded(outStart, limit);
  const n = lzfCompress(input, 0, input.length, out, outStart, limit);
  expect(n).toBeLessThanOrEqual(limit);
  expectCanaries(out, outStart, limit);
  return n === 0 ? null : out.slice(outStart, outStart + n);
}

/** One scratch output for decompress, reused so that corruption sweeps stay fast. */
let scratch = new Uint8Array(1024);

/**
 * Decompresses into a window of outLen bytes at outStart with canaries on both sides;
 * returns [result, window contents] (the contents stay valid until the next call). Throws
 * when the result is out of range or a canary changed.
 */
function decompress(stream: Uint8Array, outLen: number, outStart = 0): [number, Uint8Array] {
  const end = outStart + outLen;
  if (scratch.length < end + GUARD) scratch = new Uint8Array(2 * (end + GUARD));
  scratch.fill(CANARY, 0, outStart);
  scratch.fill(CANARY, end, end + GUARD);
  const n = lzfDecompress(stream, 0, stream.length, scratch, outStart, outLen);
  if (!(n >= 0 && n <= outLen)) throw new Error(`decompress returned ${n} for a window of ${outLen}`);
  expectCanaries(scratch.subarray(0, end + GUARD), outStart, outLen);
  return [n, scratch.subarray(outStart, outStart + n)];
}

const hex = (b: Uint8Array | null) => (b === null ? "null" : Buffer.from(b).toString("hex"));

describe("lzf format", () => {
  // Hand-derived from the format: position 0 is never referenced, so "abca" is literal; the
  // match at 4 copies 6 bytes from distance 3 (0x80 = length 6-2 in the top bits, offset 2);
  // the last two bytes are always literals.
  test("a periodic string: literals, one reference, the literal tail", () => {
    expect(hex(compress(Buffer.from("abcabcabcabc"), 64))).toBe("03616263618002016263");
  });

  test("a run: a reference with distance 1 overlaps its own output", () => {
    expect(hex(compress(Buffer.from("aaaaaaaaaa"), 64))).toBe("0161618000016161");
    const [n, out] = decompress(Buffer.from("0161618000016161", "hex"), 10);
    expect(n).toBe(10);
    expect(Buffer.from(out).toString()).toBe("aaaaaaaaaa");
  });

  test("a long reference takes the extended length byte", () => {
    // 24 bytes copied: 7 in the control byte's top bits, 24 - 2 - 7 = 15 in the next byte.
    expect(hex(compress(Buffer.from("abc".repeat(10)), 64))).toBe("0361626361e00f02016263");
  });

  test("empty input or a zero limit compress to nothing", () => {
    expect(lzfCompress(new Uint8Array(8), 0, 0, new Uint8Array(8), 0, 8)).toBe(0);
    expect(lzfCompress(new Uint8Array(8), 0, 8, new Uint8Array(8), 0, 0)).toBe(0);
    expect(lzfDecompress(new Uint8Array(8), 0, 0, new Uint8Array(8), 0, 8)).toBe(0);
  });

  test("views outside their buffers are caller bugs and throw", () => {
    expect(() => lzfCompress(new Uint8Array(8), 4, 5, new Uint8Array(8), 0, 8)).toThrow(RangeError);
    expect(() => lzfDecompress(new Uint8Array(8), 0, 8, new Uint8Array(8), 1, 8)).toThrow(RangeError);
  });
});

describe("lzf round trips", () => {
  test("every size from 0 to 300, every kind of data, at offsets inside larger buffers", () => {
    withSeed("lzf round trips", (r) => {
      for (const [kind, make] of Object.entries(KINDS)) {
        for (let n = 0; n <= 300; n++) {
          const data = make(r, n);
          const inStart = n % 7;
          const input = new Uint8Array(inStart + n + 5).fill(0x5a);
          input.set(data, inStart);
          const outStart = n % 5;
          const out = guarded(outStart, roomFor(n));
          const c = lzfCompress(input, inStart, n, out, outStart, roomFor(n));
          expectCanaries(out, outStart, roomFor(n));
          if (n === 0) {
            expect(c).toBe(0);
            continue;
          }
          if (c === 0) throw new Error(`${kind} input of ${n} bytes did not fit in ${roomFor(n)}`);
          const stream = out.slice(outStart, outStart + c);
          const [d, restored] = decompress(stream, n, n % 3);
          expect(d).toBe(n);
          expect(hex(restored)).toBe(hex(data));
          // One byte short of room is an error, not a partial result.
          expect(decompress(stream, n - 1)[0]).toBe(0);
        }
      }
    });
  });

  test("large inputs", () => {
    withSeed("lzf large round trips", (r) => {
      const cases: [string, number][] = [
        ["random", 1 << 20],
        ["text", 1 << 20],
        ["mixed", 3 << 20],
        ["run", 256 * 1024],
        ["periodic", 500_000],
      ];
      for (const [kind, n] of cases) {
        const data = KINDS[kind]!(r, n);
        const stream = compress(data, roomFor(n));
        expect(stream).not.toBeNull();
        if (kind !== "random" && kind !== "mixed") expect(stream!.length).toBeLessThan(n / 2);
        const back = new Uint8Array(n);
        expect(lzfDecompress(stream!, 0, stream!.length, back, 0, n)).toBe(n);
        expect(Buffer.compare(back, data)).toBe(0);
      }
    });
  });

  test("random data does not compress under Redis's len - 4 limit", () => {
    withSeed("lzf random limit", (r) => {
      for (const n of [21, 100, 1000, 65536]) expect(compress(KINDS.random!(r, n), n - 4)).toBeNull();
    });
  });
});

describe("lzf output limit", () => {
  test("a limit only decides whether the same bytes fit, and is never overrun", () => {
    withSeed("lzf limits", (r) => {
      for (const [kind, make] of Object.entries(KINDS)) {
        for (let round = 0; round < 12; round++) {
          const data = make(r, 1 + ((r() * 800) | 0));
          const full = compress(data, roomFor(data.length))!;
          let fitted = false;
          for (let limit = 0; limit <= full.length + 4; limit++) {
            const got = compress(data, limit, limit % 3);
            if (got === null) {
              if (fitted) throw new Error(`${kind}: fits in ${limit - 1} bytes but not in ${limit}`);
              continue;
            }
            fitted = true;
            expect(hex(got)).toBe(hex(full));
          }
          expect(fitted).toBe(true);
        }
      }
    });
  });
});

describe("lzf hash table reuse", () => {
  // The table is never cleared between calls; positions left by earlier inputs (longer,
  // shorter, similar, different) must not change the result.
  test("the same input compresses the same after any other inputs", () => {
    withSeed("lzf history", (r) => {
      const kinds = Object.values(KINDS);
      const subjects = Array.from({ length: 20 }, () => kinds[(r() * kinds.length) | 0]!(r, 20 + ((r() * 20000) | 0)));
      const first = subjects.map((s) => hex(compress(s, roomFor(s.length))));
      for (let round = 0; round < 200; round++) {
        const i = (r() * subjects.length) | 0;
        const noise = kinds[(r() * kinds.length) | 0]!(r, (r() * 30000) | 0);
        compress(noise, roomFor(noise.length));
        // A prefix of the subject leaves positions that coincide with the subject's own.
        const s = subjects[i]!;
        compress(s.subarray(0, (r() * s.length) | 0), s.length);
        expect(hex(compress(s, roomFor(s.length)))).toBe(first[i]!);
      }
    });
  });
});

describe("lzf corrupt input", () => {
  function someStreams(r: Random): [Uint8Array, Uint8Array][] {
    const pairs: [Uint8Array, Uint8Array][] = [];
    for (const kind of ["text", "mixed", "periodic", "random"]) {
      for (const n of [40, 150, 400]) {
        const data = KINDS[kind]!(r, n);
        pairs.push([data, compress(data, roomFor(n))!]);
      }
    }
    return pairs;
  }

  test("every single-byte change of compressed blocks fails cleanly", () => {
    withSeed("lzf corruption", (r) => {
      for (const [data, stream] of someStreams(r)) {
        const bad = stream.slice();
        for (let pos = 0; pos < bad.length; pos++) {
          for (let v = 0; v < 256; v++) {
            if (v === stream[pos]) continue;
            bad[pos] = v;
            // Alternate an exact window with a roomy one, at another offset.
            if (v & 1) decompress(bad, data.length);
            else decompress(bad, data.length + 300, 3);
          }
          bad[pos] = stream[pos]!;
        }
      }
    });
  }, 20_000);

  test("every truncation falls short of the original length", () => {
    withSeed("lzf truncation", (r) => {
      for (const [data, stream] of someStreams(r)) {
        for (let len = 0; len < stream.length; len++) {
          const [n] = decompress(stream.subarray(0, len), data.length);
          expect(n).toBeLessThan(data.length);
        }
      }
    });
  });

  test("random streams neither throw nor overrun", () => {
    withSeed("lzf garbage", (r) => {
      for (let i = 0; i < 20000; i++) {
        const junk = KINDS.random!(r, 1 + ((r() * 64) | 0));
        decompress(junk, (r() * 200) | 0, i % 4);
      }
    });
  });

  test("a reference before the start of the output is rejected", () => {
    // Literal "ab", then a 3-byte reference 3 bytes back: one byte before the output starts.
    expect(decompress(Buffer.from("0161622002", "hex"), 100)[0]).toBe(0);
    expect(decompress(Buffer.from("0161622001", "hex"), 100)[0]).toBe(5);
  });
});

// ---------------------------------------------------------------------------
// The real redis-server: DUMP's payload for a string is the RDB string encoding
// (type byte 0, then a length-prefixed string or 0xC3 + compressed length + original length
// + the LZF stream), a 2-byte RDB version and an 8-byte CRC64.

/** Bytes RDB's length encoding takes for n. */
function rdbLengthSize(n: number): number {
  return n < 1 << 6 ? 1 : n < 1 << 14 ? 2 : n <= 0xffffffff ? 5 : 9;
}

const RDB_ENC_LZF = 3;

/** The LZF stream of a DUMP payload, or null when Redis stored the string as it is. */
function dumpedStream(payload: Uint8Array, value: Uint8Array): Uint8Array | null {
  expect(payload[0]).toBe(0); // RDB_TYPE_STRING
  const [len, pos] = readRdbLength(payload, 1);
  let end: number;
  let stream: Uint8Array | null = null;
  if (len >= 0) {
    expect(len).toBe(value.length);
    expect(hex(payload.subarray(pos, pos + len))).toBe(hex(value));
    end = pos + len;
  } else {
    expect(-1 - len).toBe(RDB_ENC_LZF);
    const [compressedLen, afterCompressed] = readRdbLength(payload, pos);
    const [originalLen, start] = readRdbLength(payload, afterCompressed);
    expect(originalLen).toBe(value.length);
    stream = payload.slice(start, start + compressedLen);
    end = start + compressedLen;
  }
  expect(payload.length).toBe(end + 10); // RDB version and CRC64 follow.
  return stream;
}

/** A bulk-string reply's payload bytes. */
function bulkBytes(reply: string): Uint8Array {
  const body = reply.indexOf("\r\n") + 2;
  return new Uint8Array(Buffer.from(reply.slice(body, reply.length - 2), "latin1"));
}

describe("lzf against redis-server 7.0", () => {
  let redis: ServerProcess;
  let conn: RespConn;
  beforeAll(async () => {
    redis = await startRedis(["--enable-debug-command", "yes"]);
    conn = await RespConn.connect(redis.port);
  });
  afterAll(async () => {
    conn?.close();
    await redis?.stop();
  });

  /** Values longer than 20 bytes, the ones Redis tries to compress. */
  function values(r: Random): Uint8Array[] {
    const out: Uint8Array[] = [];
    // Every size just above the threshold, where "len - 4" bites hardest.
    for (let n = 21; n <= 48; n++) out.push(KINDS.text!(r, n), KINDS.periodic!(r, n));
    out.push(Buffer.from("abc".repeat(7)), Buffer.from("a".repeat(25)), Buffer.from("x".repeat(100_000)));
    for (const [kind, make] of Object.entries(KINDS)) {
      for (const n of [21, 64, 100, 263, 264, 265, 1000, 8192, 8200, 16383, 16384, 40_000, 100_000]) {
        if (kind === "run" && n < 1000) continue;
        out.push(make(r, n));
      }
    }
    // Partly compressible: just around the point where saving four bytes becomes possible.
    for (let i = 0; i < 40; i++) {
      const n = 21 + ((r() * 200) | 0);
      const v = KINDS.random!(r, n);
      const copies = (r() * 4) | 0;
      for (let c = 0; c < copies; c++) {
        const from = (r() * (n - 10)) | 0;
        const to = (r() * (n - 10)) | 0;
        v.copyWithin(to, from, from + 3 + ((r() * 7) | 0));
      }
      out.push(v);
    }
    return out;
  }

  test("DUMP holds exactly our compressed bytes, and DEBUG OBJECT our length", async () => {
    const seed = seedFromEnv();
    try {
      let compressed = 0;
      for (const value of values(rng(seed))) {
        expect(await conn.call("SET", "k", value)).toBe("+OK\r\n");
        const want = dumpedStream(bulkBytes(await conn.call("DUMP", "k")), value);
        const n = value.length;
        const ours = compress(value, n - 4);
        expect(hex(ours)).toBe(hex(want));
        if (want !== null) {
          compressed++;
          const [d, restored] = decompress(want, n);
          expect(d).toBe(n);
          expect(Buffer.compare(restored, value)).toBe(0);
        }
        const serialized = ours === null ? rdbLengthSize(n) + n : 1 + rdbLengthSize(ours.length) + rdbLengthSize(n) + ours.length;
        const info = await conn.call("DEBUG", "OBJECT", "k");
        expect(/ serializedlength:(\d+) /.exec(info)?.[1]).toBe(String(serialized));
      }
      // The mix must exercise both outcomes.
      expect(compressed).toBeGreaterThan(50);
    } catch (error) {
      console.error(`lzf against redis-server failed with SEED=${seed}`);
      throw error;
    }
  });
});
