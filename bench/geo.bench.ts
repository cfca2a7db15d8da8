// Geo command micro-benchmarks with mitata: GEOADD and GEOSEARCH through the whole command
// path in one process (parse + dispatch + execute + reply, bench/lib/in-process.ts), in
// pipelines of 16 commands a read.
//
//   bun bench/geo.bench.ts
//
// - GEOADD of 16 new members into a listpack zset and into a skiplist one. Members must be
//   new each time however long mitata runs, so every chunk removes them again with one
//   ZREM; the same chunk with ZADD of the same scores is the yardstick, so that the
//   difference is what GEOADD adds to ZADD (parsing two doubles and the geohash).
// - GEOSEARCH BYRADIUS 5 km around a point of a 10,000-member skiplist set (about 580
//   points scanned in 4 cells, 82 inside): plain, with COUNT (a partial sort by
//   distance), WITHDIST (a "%.4f" distance per result) and ASC WITHDIST WITHCOORD (a full
//   sort and two "%.17f" coordinates per result).
import { bench, group, run, summary } from "mitata";
import { geoScore } from "../src/util/geohash.ts";
import { inProcessServer, resp } from "./lib/in-process.ts";

const PIPELINE = 16;

const server = inProcessServer();
const encoder = new TextEncoder();
const send = (text: string): void => server.feed(encoder.encode(text));

/** A point of a deterministic spread around Palermo (about 0.5 degrees either way). */
function pointAt(n: number): [string, string] {
  const lon = 13.361389 + (((n * 7919) % 10007) / 10007 - 0.5);
  const lat = 38.115556 + (((n * 104729) % 10009) / 10009 - 0.5);
  return [lon.toFixed(6), lat.toFixed(6)];
}

/** 16 GEOADDs of new members to `key` and the ZREM that takes them out again. */
function geoaddChunk(key: string): Uint8Array {
  let text = "";
  const members: string[] = [];
  for (let i = 0; i < PIPELINE; i++) {
    const [lon, lat] = pointAt(i);
    members.push(`member:${i}`);
    text += resp("GEOADD", key, lon, lat, `member:${i}`);
  }
  return encoder.encode(text + resp("ZREM", key, ...members));
}

/** The same chunk with ZADD of the scores GEOADD computes. */
function zaddChunk(key: string): Uint8Array {
  let text = "";
  const members: string[] = [];
  for (let i = 0; i < PIPELINE; i++) {
    const [lon, lat] = pointAt(i);
    members.push(`member:${i}`);
    // Scores are integers below 2^52, so their shortest text is exact.
    text += resp("ZADD", key, String(geoScore(Number(lon), Number(lat))), `member:${i}`);
  }
  return encoder.encode(text + resp("ZREM", key, ...members));
}

/** A zset with `count` members besides the benchmark's own, so it keeps its encoding. */
function fill(key: string, count: number): void {
  let text = "";
  for (let n = 0; n < count; n++) {
    const [lon, lat] = pointAt(n + 100_000);
    text += resp("GEOADD", key, lon, lat, `place:${n}`);
  }
  send(text);
}

fill("geo:listpack", 10);
fill("geo:skiplist", 1000);
fill("geo:search", 10_000);

const search = (...options: string[]): Uint8Array =>
  encoder.encode(resp("GEOSEARCH", "geo:search", "FROMLONLAT", "13.361389", "38.115556", "BYRADIUS", "5", "km", ...options).repeat(PIPELINE));

summary(() => {
  group("16 new members added, then removed with one ZREM", () => {
    const chunks: [string, Uint8Array][] = [
      ["GEOADD, listpack", geoaddChunk("geo:listpack")],
      ["ZADD, listpack", zaddChunk("geo:listpack")],
      ["GEOADD, skiplist", geoaddChunk("geo:skiplist")],
      ["ZADD, skiplist", zaddChunk("geo:skiplist")],
    ];
    for (const [name, chunk] of chunks) bench(name, () => server.feed(chunk));
  });
});

summary(() => {
  group(`one read of ${PIPELINE} GEOSEARCH BYRADIUS 5 km (10,000 members)`, () => {
    const chunks: [string, Uint8Array][] = [
      ["plain", search()],
      ["COUNT 10", search("COUNT", "10")],
      ["WITHDIST", search("WITHDIST")],
      ["ASC WITHDIST WITHCOORD", search("ASC", "WITHDIST", "WITHCOORD")],
    ];
    for (const [name, chunk] of chunks) bench(name, () => server.feed(chunk));
  });
});

if (import.meta.main) await run();
