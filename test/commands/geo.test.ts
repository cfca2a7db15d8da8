// Geospatial commands against the real redis-server: every reply byte for byte, errors
// included, in both protocols and on both sorted set encodings. Coordinates, distances
// and the order of unsorted results must match exactly, so the suite searches around the
// poles, across the antimeridian, with radii from zero to the whole earth, with points
// that tie on distance (the partial sort COUNT uses must break ties as Redis does), and
// over scores GEOADD never writes. Stored results are checked through DEBUG DIGEST-VALUE,
// notifications through subscribers, and propagation through the AOF.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { Oracle, RespConn, type ServerProcess } from "../oracle/harness.ts";
import { eventsUntilMarker, listenForEvents } from "../oracle/keyspace-events.ts";
import { aofFile, readCommands, startIn, tempDir } from "../persistence/aof-helpers.ts";

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
});
afterAll(() => o.stop());

async function sameAll(commands: string[][]): Promise<void> {
  for (const c of commands) await o.same(...c);
}

/** Switches both connections to RESP2 or RESP3 (HELLO replies name the server, so differ). */
async function hello(resp: number): Promise<void> {
  const [want, got] = await o.both("HELLO", String(resp));
  expect(got.slice(0, 1)).toBe(want.slice(0, 1));
}

const words = (line: string): string[] => line.split(" ");

const SICILY = "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 12.758489 38.788135 edge1 17.241510 38.788135 edge2";

/** Points near the poles' Mercator limits and on both sides of the antimeridian. */
const EDGES =
  "GEOADD e 179.9 0 east -179.9 0 west 180 85.05112878 ne -180 -85.05112878 sw 0 85 north 0 -85 south 179.99 84.9 far 0 0 origin -0.0001 -0.0001 near";

const SEARCHES = [
  "GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH",
  "GEORADIUS Sicily 15 37 200 km WITHDIST ASC",
  "GEORADIUS Sicily 15 37 200 km WITHDIST DESC",
  "GEORADIUS Sicily 15 37 200 km COUNT 1",
  "GEORADIUS Sicily 15 37 200 km COUNT 2 DESC",
  "GEORADIUS Sicily 15 37 200 km COUNT 1 ANY",
  "GEORADIUS Sicily 15 37 200000 m WITHDIST",
  "GEORADIUS Sicily 15 37 124 mi WITHDIST",
  "GEORADIUS Sicily 15 37 656168 ft WITHDIST",
  "GEORADIUS Sicily 15 37 0 km",
  "GEORADIUS Sicily 15 37 20000 km WITHDIST",
  "GEORADIUS_RO Sicily 15 37 200 KM WITHCOORD",
  "GEORADIUSBYMEMBER Sicily Palermo 200 km WITHDIST",
  "GEORADIUSBYMEMBER Sicily Palermo 0 km WITHDIST",
  "GEORADIUSBYMEMBER_RO Sicily Catania 500 Km WITHDIST WITHHASH COUNT 3 DESC",
  "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC",
  "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD WITHDIST",
  "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 400 400 km WITHCOORD WITHDIST WITHHASH",
  "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 0.001 0.001 km WITHDIST",
  "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 200 200 km COUNT 1 ANY WITHDIST",
  "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 20000 20000 km DESC",
  "GEOSEARCH e FROMLONLAT 180 0 BYRADIUS 50 km WITHDIST WITHCOORD",
  "GEOSEARCH e FROMLONLAT -180 0 BYRADIUS 50 km WITHDIST",
  "GEOSEARCH e FROMLONLAT 0 85.05 BYRADIUS 500 km WITHDIST WITHCOORD",
  "GEOSEARCH e FROMLONLAT 0 -85.05 BYRADIUS 500 km WITHDIST WITHCOORD",
  "GEOSEARCH e FROMLONLAT 90 84 BYBOX 3000 800 km WITHDIST",
  "GEOSEARCH e FROMLONLAT 0 0 BYRADIUS 20037 km WITHDIST",
  "GEOSEARCH e FROMLONLAT 0 0 BYRADIUS 5000 km WITHDIST",
  "GEOSEARCH e FROMLONLAT 179.95 0 BYBOX 50 50 km WITHCOORD",
  "GEOSEARCH e FROMMEMBER origin BYRADIUS 20 m WITHDIST WITHHASH",
  "GEOSEARCH e FROMMEMBER far BYBOX 10000 100 km DESC WITHDIST",
  "GEOSEARCH e FROMMEMBER ne BYRADIUS 1 m WITHCOORD",
  "GEORADIUS e 0 0 100000 km COUNT 3",
  "GEORADIUS e 0 0 100000 km",
];

const ERRORS = [
  "GEOADD k 200 10 a",
  "GEOADD k 10 86 a",
  "GEOADD k 180.0000001 0 a",
  "GEOADD k inf 0 a",
  "GEOADD k -0 -1e300 a",
  "GEOADD k 0.0000005 100.0000005 a",
  "GEOADD k NX XX 1 2 a",
  "GEOADD k GT 1 2 a",
  "GEOADD k ch 1 2",
  "GEOADD k NX CH CH",
  "GEOADD k x 2 a",
  "GEOADD k 1 2 a 3 100 b",
  "GEOADD k 1 2 3 4",
  "GEODIST Sicily Palermo Catania KM x",
  "GEODIST Sicily Palermo Catania yards",
  "GEODIST nokey a b x",
  "GEORADIUS Sicily 15 37 200 km COUNT 0",
  "GEORADIUS Sicily 15 37 200 km COUNT -1",
  "GEORADIUS Sicily 15 37 200 km COUNT x",
  "GEORADIUS Sicily 15 37 200 km COUNT",
  "GEORADIUS Sicily 15 37 200 km ANY",
  "GEORADIUS Sicily 15 37 -1 km",
  "GEORADIUS Sicily 15 37 x km",
  "GEORADIUS Sicily 15 37 1 yd",
  "GEORADIUS Sicily 15 91 1 km",
  "GEORADIUS Sicily 15 37 200 km STORE dst WITHDIST",
  "GEORADIUS Sicily 15 37 200 km STORE",
  "GEORADIUS Sicily 15 37 200 km FROMMEMBER Palermo",
  "GEORADIUS_RO Sicily 15 37 200 km STORE dst",
  "GEORADIUSBYMEMBER Sicily nobody 200 km",
  "GEORADIUSBYMEMBER Sicily Palermo 200 km STOREDIST d WITHHASH",
  "GEORADIUSBYMEMBER_RO Sicily Palermo 200 km STOREDIST d",
  "GEOSEARCH Sicily FROMMEMBER Palermo FROMLONLAT 1 2 BYBOX 400 400 km",
  "GEOSEARCH Sicily BYBOX 400 400 km",
  "GEOSEARCH Sicily FROMMEMBER Palermo",
  "geosearch Sicily FROMMEMBER Palermo COUNT 1",
  "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km ANY",
  "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km BYBOX 1 1 km",
  "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS -1 km",
  "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS x km",
  "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX x 1 km",
  "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 1 x km",
  "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 1 -1 km",
  "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 1 1 yd",
  "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km STORE x",
  "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km STOREDIST",
  "GEOSEARCH Sicily FROMMEMBER nobody BYRADIUS 1 km",
  "GEOSEARCH Sicily FROMLONLAT 1 BYRADIUS 1 km",
  "GEOSEARCH Sicily FROMLONLAT 1 100 BYRADIUS 1 km",
  "GEOSEARCH nokey FROMMEMBER nobody BYRADIUS 1 km",
  "GEOSEARCH nokey FROMMEMBER nobody BYRADIUS 1 km WITHDIST",
  "GEOSEARCH nokey BYRADIUS 1 km",
  "GEOSEARCHSTORE dst Sicily FROMMEMBER Palermo BYRADIUS 1000 km WITHDIST",
  "GEOSEARCHSTORE dst Sicily FROMMEMBER Palermo BYRADIUS 1000 km STORE x",
  "GEOSEARCHSTORE dst nokey FROMMEMBER x BYRADIUS 1000 km",
];

for (const resp of [2, 3]) {
  for (const encoding of ["listpack", "skiplist"]) {
    describe(`RESP${resp}, ${encoding}`, () => {
      beforeEach(async () => {
        await hello(resp);
        await o.same("FLUSHALL");
        await o.same("CONFIG", "SET", "zset-max-listpack-entries", encoding === "listpack" ? "128" : "0");
        await sameAll([words(SICILY), words(EDGES)]);
        expect(await o.encodingOf("Sicily")).toBe(encoding);
      });

      test("GEOADD, GEOPOS, GEOHASH, GEODIST", async () => {
        await sameAll(
          [
            "GEOADD k 1 2 a",
            "GEOADD k xx ch 1 2 a",
            "GEOADD k XX CH 1.5 2 a 3 4 b",
            "GEOADD k NX CH 5 5 a 6 6 c",
            "GEOADD k CH 5 5 a",
            "ZRANGE k 0 -1 WITHSCORES",
            "GEOPOS k a b c nobody",
            "GEOPOS nokey a",
            "GEOHASH k a b c nobody",
            "GEOHASH nokey a",
            "GEOPOS e east west ne sw north south far origin near",
            "GEOHASH e east west ne sw north south far origin near",
            "ZRANGE e 0 -1 WITHSCORES",
            "GEODIST Sicily Palermo Catania",
            "GEODIST Sicily Palermo Catania km",
            "GEODIST Sicily Palermo Catania FT",
            "GEODIST Sicily Palermo Catania mI",
            "GEODIST Sicily Palermo Palermo",
            "GEODIST Sicily Palermo nobody",
            "GEODIST nokey a b",
            "GEODIST e east west",
            "GEODIST e ne sw",
            "GEODIST e north south km",
          ].map(words),
        );
      });

      test("searches", async () => {
        await sameAll(SEARCHES.map(words));
      });

      test("errors, and the order Redis checks things in", async () => {
        await sameAll(ERRORS.map(words));
        await sameAll([["SET", "str", "x"], ...["GEOADD str 1 2 a", "GEOADD str 1 200 a", "GEOPOS str a", "GEOHASH str a", "GEODIST str a b", "GEODIST str a b x"].map(words)]);
        await sameAll(["GEOSEARCH str FROMMEMBER x BYRADIUS 1 m", "GEOSEARCH str x", "GEORADIUS str 1000 1 1 m", "GEORADIUSBYMEMBER str a 1 m", "GEOSEARCHSTORE d str x"].map(words));
      });

      test("STORE, STOREDIST and GEOSEARCHSTORE", async () => {
        const steps = [
          "GEORADIUS Sicily 15 37 200 km STORE dst",
          "GEORADIUS Sicily 15 37 200 km STOREDIST dst2",
          "GEORADIUS Sicily 15 37 200 km STORE dst STOREDIST dst3 COUNT 1",
          "GEORADIUSBYMEMBER Sicily Palermo 200 mi STOREDIST dst4 DESC COUNT 2",
          "GEORADIUSBYMEMBER nokey nobody 200 km STORE dst4",
          "GEOSEARCHSTORE dst5 Sicily FROMMEMBER Palermo BYRADIUS 1000 km STOREDIST",
          "GEOSEARCHSTORE dst6 Sicily FROMLONLAT 15 37 BYBOX 1000 1000 km COUNT 2 ASC",
          "GEOSEARCHSTORE dst6 Sicily FROMLONLAT 15 37 BYBOX 1 1 m",
          "SET s x",
          "EXPIRE dst 1000",
          "GEOSEARCHSTORE dst Sicily FROMMEMBER Palermo BYRADIUS 10 km",
          "TTL dst",
          "GEOSEARCHSTORE s nokey FROMMEMBER Palermo BYRADIUS 10 km",
          "GEOSEARCHSTORE Sicily Sicily FROMMEMBER Palermo BYRADIUS 10 km",
        ];
        for (const step of steps) {
          await o.same(...words(step));
          await sameAll(["dst", "dst2", "dst3", "dst4", "dst5", "dst6", "s", "Sicily"].flatMap((k) => [["ZRANGE", k, "0", "-1", "WITHSCORES"], ["DEBUG", "DIGEST-VALUE", k]]));
        }
        await o.same("DEBUG", "DIGEST");
      });
    });
  }
}

describe("encodings", () => {
  beforeEach(async () => {
    await hello(2);
    await o.same("FLUSHALL");
    await o.same("CONFIG", "SET", "zset-max-listpack-entries", "128");
    await o.same("CONFIG", "SET", "zset-max-listpack-value", "64");
  });

  test("GEOADD converts at the zset thresholds, GEOSEARCHSTORE picks the encoding of its result", async () => {
    for (let i = 0; i < 130; i++) {
      await o.same("GEOADD", "big", String(-170 + i * 2.5), String(-80 + i * 1.2), `m${i}`);
      if (i >= 126) expect(await o.encodingOf("big")).toBe(i < 128 ? "listpack" : "skiplist");
      await o.same("OBJECT", "ENCODING", "big");
    }
    await o.same("GEOADD", "long", "1", "2", "x".repeat(64));
    await o.same("OBJECT", "ENCODING", "long");
    await o.same("GEOADD", "long", "1", "2", "y".repeat(65));
    await o.same("OBJECT", "ENCODING", "long");
    await sameAll([
      words("GEOSEARCHSTORE few big FROMLONLAT 0 0 BYRADIUS 2000 km"),
      words("OBJECT ENCODING few"),
      words("GEOSEARCHSTORE many big FROMLONLAT 0 0 BYRADIUS 20000 km"),
      words("OBJECT ENCODING many"),
      words("GEOSEARCH big FROMLONLAT 10 10 BYRADIUS 20000 km"),
      words("GEOSEARCH big FROMLONLAT 10 10 BYBOX 40000 10000 km WITHDIST"),
      words("GEOSEARCH big FROMLONLAT -100 50 BYRADIUS 3000 km COUNT 5 ANY"),
      words("GEOSEARCH big FROMLONLAT -100 50 BYRADIUS 6000 km COUNT 7"),
      ["DEBUG", "DIGEST"],
    ]);
  });
});

describe("scores GEOADD never writes", () => {
  test("any score decodes as Redis's x86-64 build casts it", async () => {
    await o.same("FLUSHALL");
    const scores = ["-1", "1.5", "-1.5", "0", "-0", "1e30", "-1e30", "inf", "-inf", "4503599627370496", "4503599627370495",
      "9007199254740993", "18014398509481984", "9223372036854775807", "9223372036854775808", "18446744073709551615",
      "18446744073709551616", "-9223372036854775808", "-9223372036854777856", "123456789.75", "1e-300"];
    for (let i = 0; i < scores.length; i++) await o.same("ZADD", "z", scores[i]!, `s${i}`);
    const members = scores.map((_, i) => `s${i}`);
    await o.same("GEOPOS", "z", ...members);
    await o.same("GEOHASH", "z", ...members);
    for (let i = 1; i < members.length; i++) await o.same("GEODIST", "z", members[0]!, members[i]!);
    await sameAll([
      words("GEOSEARCH z FROMLONLAT 0 0 BYRADIUS 25000 km WITHHASH WITHCOORD WITHDIST"),
      words("GEOSEARCH z FROMMEMBER s1 BYRADIUS 1 km WITHHASH"),
      words("GEOSEARCHSTORE d z FROMLONLAT 0 0 BYRADIUS 25000 km"),
      words("ZRANGE d 0 -1 WITHSCORES"),
    ]);
  });
});

describe("ties on distance", () => {
  test("COUNT breaks ties as Redis's partial quicksort does, a full sort keeps scan order", async () => {
    await o.same("FLUSHALL");
    // Members at the same few points, and points placed symmetrically around the center.
    const args: string[] = [];
    for (let i = 0; i < 60; i++) args.push(String([10, 10.01, 9.99][i % 3]), String([20, 20.01, 19.99][(i * 7) % 3]), `p${i}`);
    await o.same("GEOADD", "t", ...args);
    for (const order of ["ASC", "DESC"]) {
      for (let count = 1; count <= 61; count += count < 10 ? 1 : 7) {
        await o.same("GEOSEARCH", "t", "FROMLONLAT", "10", "20", "BYRADIUS", "5", "km", order, "COUNT", String(count), "WITHDIST");
        await o.same("GEORADIUS", "t", "10", "20", "5", "km", order, "COUNT", String(count), "STORE", "d");
        await o.same("ZRANGE", "d", "0", "-1", "WITHSCORES");
      }
      await o.same("GEOSEARCH", "t", "FROMLONLAT", "10", "20", "BYRADIUS", "5", "km", order);
    }
    await o.same("GEOSEARCH", "t", "FROMLONLAT", "10", "20", "BYRADIUS", "5", "km");
    await o.same("GEOSEARCH", "t", "FROMLONLAT", "10", "20", "BYRADIUS", "5", "km", "COUNT", "5", "ANY");
  });

  test("a partition pass that swaps nothing does not end the partial sort", async () => {
    // Points scanned nearly in distance order, two of them on the center: NetBSD's qsort
    // would fall back to insertion sort here, redis-server 7.0's pqsort does not.
    await o.same("FLUSHALL");
    const line = Array.from({ length: 11 }, (_, i) => ["10", (20 + (i + 1) * 0.00002).toFixed(5), `a${i + 1}`]).flat();
    await o.same("GEOADD", "t", "10", "20", "c", "10", "20", "d", ...line);
    for (let count = 1; count <= 13; count++) {
      await o.same("GEOSEARCH", "t", "FROMMEMBER", "c", "BYRADIUS", "1", "km", "COUNT", String(count), "WITHDIST");
      await o.same("GEOSEARCH", "t", "FROMMEMBER", "c", "BYRADIUS", "1", "km", "COUNT", String(count), "DESC");
    }
  });
});

describe("COMMAND", () => {
  test("INFO, DOCS and GETKEYS", async () => {
    const names = ["geoadd", "geodist", "geohash", "geopos", "georadius", "georadiusbymember", "georadius_ro", "georadiusbymember_ro", "geosearch", "geosearchstore"];
    await o.same("COMMAND", "INFO", ...names);
    await o.same("COMMAND", "DOCS", ...names);
    await sameAll(
      [
        "COMMAND GETKEYS GEORADIUS k 1 2 3 m STORE dst",
        "COMMAND GETKEYS GEORADIUS k 1 2 3 m STORE dst STOREDIST d2",
        "COMMAND GETKEYS GEORADIUSBYMEMBER k 1 3 m STOREDIST d2",
        "COMMAND GETKEYS GEOSEARCHSTORE d s FROMMEMBER m BYRADIUS 1 m",
        "COMMAND GETKEYS GEOADD k 1 2 m",
      ].map(words),
    );
  });
});

describe("keyspace notifications", () => {
  const MARKER = "geo-test-marker";
  test("GEOADD notifies zadd, the searches that store notify their own event or del", async () => {
    const subs = await o.connectBoth();
    await listenForEvents(subs, MARKER);
    await hello(2);
    await o.same("FLUSHALL");
    await o.same("CONFIG", "SET", "notify-keyspace-events", "KEA");
    await sameAll(
      [
        SICILY,
        "GEOADD Sicily 13.361389 38.115556 Palermo",
        "GEOADD Sicily XX CH 13.36 38.11 Palermo",
        "GEORADIUS Sicily 15 37 200 km STORE dst",
        "GEORADIUSBYMEMBER Sicily Palermo 1 m STOREDIST dst",
        "GEOSEARCHSTORE d2 Sicily FROMMEMBER Palermo BYRADIUS 10 km",
        "GEOSEARCHSTORE d2 Sicily FROMMEMBER Palermo BYRADIUS 0 km",
        "GEOSEARCHSTORE d2 nokey FROMMEMBER Palermo BYRADIUS 0 km",
        "GEOSEARCHSTORE d2 Sicily FROMLONLAT 0 0 BYRADIUS 1 km",
        "GEOSEARCHSTORE d3 Sicily FROMLONLAT 0 0 BYRADIUS 1 km",
        "DEBUG SET-ACTIVE-EXPIRE 0",
        "SET gone x PX 1",
        "SET gone2 x PX 1",
      ].map(words),
    );
    // Past their time to live, an empty result deletes the key as it is ("del"), a
    // non-empty one replaces it after it expired ("expired").
    await Bun.sleep(5);
    await sameAll(
      [
        "GEOSEARCHSTORE gone Sicily FROMLONLAT 0 0 BYRADIUS 1 km",
        "GEORADIUS Sicily 15 37 200 km STORE gone2",
        "DEBUG SET-ACTIVE-EXPIRE 1",
        `PUBLISH ${MARKER} end`,
      ].map(words),
    );
    const events = await Promise.all(subs.map((sub) => eventsUntilMarker(sub, MARKER)));
    expect(events[1]).toEqual(events[0]!);
    expect(events[0]!.some((m) => m.includes("geosearchstore"))).toBe(true);
    expect(events[0]!.some((m) => m.includes("georadiusstore"))).toBe(true);
    for (const sub of subs) sub.close();
    await o.same("CONFIG", "SET", "notify-keyspace-events", "");
  });
});

describe("propagation", () => {
  let dirs: string[] = [];
  let servers: ServerProcess[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test("GEOADD is written to the AOF as the ZADD Redis rewrites it into; stores as themselves", async () => {
    dirs = [tempDir("geo-aof-redis"), tempDir("geo-aof-redbun")];
    servers = await Promise.all([startIn("redis", dirs[0]!), startIn("redbun", dirs[1]!)]);
    const conns = await Promise.all(servers.map((s) => RespConn.connect(s.port)));
    const commands = [
      SICILY,
      "GEOADD Sicily 13.361389 38.115556 Palermo",
      "GEOADD Sicily nx CH 13.36 38.11 Palermo 180 0 east",
      "GEOADD Sicily 1 100 bad",
      "GEORADIUS Sicily 15 37 200 km STORE dst",
      "GEORADIUS Sicily 15 37 200 km",
      "GEOSEARCHSTORE d2 Sicily FROMMEMBER Palermo BYRADIUS 10 km STOREDIST",
      "GEOSEARCHSTORE d2 Sicily FROMMEMBER Palermo BYRADIUS 10 km COUNT 1 ANY",
    ].map(words);
    for (const command of commands) {
      const [want, got] = await Promise.all(conns.map((c) => c.call(...command)));
      expect(got).toBe(want!);
    }
    const [want, got] = dirs.map((dir) => readCommands(aofFile(dir, ".1.incr.aof")));
    expect(got).toEqual(want!);
    for (const c of conns) c.close();
  });
});
