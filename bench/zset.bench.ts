// Sorted set micro-benchmarks with mitata on the skiplist encoding: the whole command path
// in one process (parse + dispatch + execute + reply, bench/lib/in-process.ts), in
// pipelines of 16 commands a read, against sets of 200,000 members.
//
//   bun bench/zset.bench.ts
//
// - ZADD of 16 new members, with random scores and with every score equal (then each
//   insert orders by member bytes all the way down the list). Members must be new however
//   long mitata runs, so every chunk removes them again with one ZREM; "ZREM only" is the
//   yardstick to subtract.
// - Reads: ZSCORE, ZRANK, ZRANGE by rank (10 elements from the middle) and ZRANGEBYSCORE
//   (10 elements from the middle).
import { bench, group, run, summary } from "mitata";
import { inProcessServer, resp } from "./lib/in-process.ts";

const PIPELINE = 16;
const SIZE = 200_000;

const server = inProcessServer();
const encoder = new TextEncoder();
const send = (text: string): void => server.feed(encoder.encode(text));

/** A deterministic score in 0..SIZE-1 spread over the whole set. */
const scoreOf = (n: number): number => (n * 7919) % SIZE;

/** A set of SIZE members `member:<n>`, every score equal when `equal`. */
function fill(key: string, equal: boolean): void {
  for (let from = 0; from < SIZE; from += 1000) {
    let text = "";
    for (let n = from; n < from + 1000; n++) text += resp("ZADD", key, equal ? "1" : String(scoreOf(n)), `member:${n}`);
    send(text);
  }
}

/** 16 ZADDs of new members to `key` (scores spread like the set's), and the ZREM that takes them out. */
function zaddChunk(key: string, equal: boolean): Uint8Array {
  let text = "";
  const members: string[] = [];
  for (let i = 0; i < PIPELINE; i++) {
    const member = `member:${i * 12_347 + 7}x`;
    members.push(member);
    text += resp("ZADD", key, equal ? "1" : String(scoreOf(i * 12_347 + 7) + 0.5), member);
  }
  return encoder.encode(text + resp("ZREM", key, ...members));
}

/** The ZREM of zaddChunk alone (its members are absent). */
const zremChunk = (key: string): Uint8Array =>
  encoder.encode(resp("ZREM", key, ...Array.from({ length: PIPELINE }, (_, i) => `member:${i * 12_347 + 7}x`)));

/** 16 reads, one per member spread over the set. */
function readChunk(make: (n: number) => string[]): Uint8Array {
  let text = "";
  for (let i = 0; i < PIPELINE; i++) text += resp(...make((i * 12_347 + 7) % SIZE));
  return encoder.encode(text);
}

fill("z:random", false);
fill("z:equal", true);

summary(() => {
  group(`16 new members added to a ${SIZE}-member skiplist, then removed with one ZREM`, () => {
    const chunks: [string, Uint8Array][] = [
      ["ZADD, random scores", zaddChunk("z:random", false)],
      ["ZADD, equal scores", zaddChunk("z:equal", true)],
      ["ZREM only", zremChunk("z:random")],
    ];
    for (const [name, chunk] of chunks) bench(name, () => server.feed(chunk));
  });
});

summary(() => {
  group(`one read of ${PIPELINE} commands on a ${SIZE}-member skiplist`, () => {
    const chunks: [string, Uint8Array][] = [
      ["ZSCORE", readChunk((n) => ["ZSCORE", "z:random", `member:${n}`])],
      ["ZRANK, random scores", readChunk((n) => ["ZRANK", "z:random", `member:${n}`])],
      ["ZRANK, equal scores", readChunk((n) => ["ZRANK", "z:equal", `member:${n}`])],
      ["ZRANGE by rank, 10", readChunk((n) => ["ZRANGE", "z:random", String(n), String(n + 9)])],
      ["ZRANGEBYSCORE, 10", readChunk((n) => ["ZRANGEBYSCORE", "z:random", String(n), String(n + 9)])],
    ];
    for (const [name, chunk] of chunks) bench(name, () => server.feed(chunk));
  });
});

if (import.meta.main) await run();
