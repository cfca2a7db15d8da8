// Seeded random sequences of geospatial commands over a few keys, sent to the real
// redis-server and to redbun, comparing every reply byte for byte in RESP2 and RESP3, and
// the whole data set through DEBUG DIGEST at the end. SEED=n replays a run, STEPS=n
// changes its length.
//
// Points cluster around a few hotspots (the origin, both sides of the antimeridian, near
// both poles' Mercator limits, Sicily) at scales from centimeters to continents, so that
// searches of every size find something, cross cell edges and wrap around the grid; some
// land exactly on the limits, some scores are written by ZADD. Orders, COUNT with and
// without ANY, and STORE results all depend on the scan order and on how ties on distance
// are broken, which must therefore match too. The listpack limit is low so sets keep
// crossing to the skiplist encoding.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { Oracle, rng, withHistory } from "../oracle/harness.ts";
import { type Maker, type Random, pick, seedFromEnv, stepsFromEnv, weightedCommands } from "../oracle/fuzz.ts";

const STEPS = stepsFromEnv(8000);
const SEED = seedFromEnv();

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes", "--zset-max-listpack-entries", "16"]);
});
afterAll(() => o.stop());

const chance = (r: Random, p: number): boolean => r() < p;

/** Geo keys (listed again to be drawn more often), a store destination, and "s" holding a string, for WRONGTYPE. */
const KEYS = ["g1", "g2", "g3", "g1", "g2", "g1", "dst", "s"];
const MEMBERS = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "1", "-5", "", "\x00\xff", "long-".repeat(4)];
const HOTSPOTS: [number, number][] = [[0, 0], [180, 0], [-180, 10], [0, 85.05112878], [30, -85.05112878], [13.36, 38.11], [-122.4, 37.8], [179.99, -60]];
const UNITS = ["m", "km", "ft", "mi", "M", "Km", "FT", "mI"];

/** A number as a client would type it: usually short, sometimes with all 17 digits. */
const text = (r: Random, v: number): string => (chance(r, 0.5) ? String(Number(v.toFixed(6))) : String(v));

/** A longitude/latitude pair near a hotspot, clamped to the limits (rarely beyond them). */
function coordinates(r: Random): string[] {
  const [lon0, lat0] = pick(r, HOTSPOTS);
  const scale = 10 ** (-6 + r() * 7);
  let lon = lon0 + (r() - 0.5) * scale;
  let lat = lat0 + (r() - 0.5) * scale;
  if (!chance(r, 0.02)) {
    lon = Math.max(-180, Math.min(180, lon));
    lat = Math.max(-85.05112878, Math.min(85.05112878, lat));
  }
  if (chance(r, 0.03)) return [pick(r, ["180", "-180", "0", "x", "inf"]), pick(r, ["85.05112878", "-85.05112878", "0", "85.1"])];
  return [text(r, lon), text(r, lat)];
}

/** A radius or box side: from zero to the whole earth, in a random unit. */
function distance(r: Random): string[] {
  if (chance(r, 0.02)) return [pick(r, ["-1", "x", "0"]), pick(r, UNITS)];
  const meters = chance(r, 0.05) ? 0 : 10 ** (r() * 7.4);
  const unit = pick(r, UNITS);
  const perUnit = { m: 1, km: 1000, ft: 0.3048, mi: 1609.34 }[unit.toLowerCase() as "m"];
  return [text(r, meters / perUnit), chance(r, 0.01) ? "yd" : unit];
}

const member = (r: Random): string => pick(r, MEMBERS);
/** A member searches start from: one of the few that GEOADD writes most, so it usually exists. */
const center = (r: Random): string => (chance(r, 0.9) ? pick(r, CENTERS) : member(r));
const CENTERS = MEMBERS.slice(0, 6);

/** WITH* flags, an order, COUNT [ANY], shuffled; STORE forms are added by the callers. */
function searchOptions(r: Random, withFlags: boolean): string[][] {
  const groups: string[][] = [];
  if (withFlags) for (const flag of ["WITHDIST", "WITHCOORD", "WITHHASH"]) if (chance(r, 0.35)) groups.push([flag]);
  if (chance(r, 0.4)) groups.push([pick(r, ["ASC", "DESC", "asc"])]);
  if (chance(r, 0.4)) {
    const count = chance(r, 0.03) ? pick(r, ["0", "-1", "x"]) : pick(r, ["1", "2", "3", "5", "8", "13", "100"]);
    groups.push(chance(r, 0.4) ? ["COUNT", count, "ANY"] : ["COUNT", count]);
  } else if (chance(r, 0.02)) {
    groups.push(["ANY"]);
  }
  for (let i = groups.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [groups[i], groups[j]] = [groups[j]!, groups[i]!];
  }
  return groups;
}

const geoadd: Maker = (r, k) => {
  const options: string[] = [];
  if (chance(r, 0.2)) options.push(pick(r, ["NX", "XX", "nx"]));
  if (chance(r, 0.2)) options.push("CH");
  const triples: string[] = [];
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) triples.push(...coordinates(r), chance(r, 0.4) ? center(r) : member(r));
  return ["GEOADD", k, ...options, ...triples];
};

const georadius: Maker = (r, k, k2) => {
  const byMember = chance(r, 0.5);
  const readOnly = chance(r, 0.3);
  const name = (byMember ? "GEORADIUSBYMEMBER" : "GEORADIUS") + (readOnly ? "_RO" : "");
  const from = byMember ? [center(r)] : coordinates(r);
  const store = !readOnly && chance(r, 0.3);
  const groups = searchOptions(r, !store || chance(r, 0.05));
  if (store) groups.push([pick(r, ["STORE", "STOREDIST"]), k2]);
  return [name, k, ...from, ...distance(r), ...groups.flat()];
};

const geosearch: Maker = (r, k, k2) => {
  const store = chance(r, 0.3);
  const from = chance(r, 0.5) ? ["FROMMEMBER", center(r)] : ["FROMLONLAT", ...coordinates(r)];
  const by = chance(r, 0.5) ? ["BYRADIUS", ...distance(r)] : ["BYBOX", distance(r)[0]!, ...distance(r)];
  const groups = [from, by, ...searchOptions(r, !store || chance(r, 0.05))];
  if (store && chance(r, 0.4)) groups.push(["STOREDIST"]);
  if (chance(r, 0.02)) groups.pop();
  for (let i = groups.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [groups[i], groups[j]] = [groups[j]!, groups[i]!];
  }
  return store ? ["GEOSEARCHSTORE", k2, k, ...groups.flat()] : ["GEOSEARCH", k, ...groups.flat()];
};

const GENERATORS: (readonly [number, Maker])[] = [
  [30, geoadd],
  [6, (r, k) => ["GEOPOS", k, member(r), member(r)]],
  [4, (r, k) => ["GEOHASH", k, member(r), member(r)]],
  [6, (r, k) => (chance(r, 0.7) ? ["GEODIST", k, member(r), member(r), pick(r, UNITS)] : ["GEODIST", k, member(r), member(r)])],
  [20, georadius],
  [25, geosearch],
  [3, (r, k) => ["ZADD", k, pick(r, ["0", "1", "-1", "4503599627370495", "4503599627370496", "1.5", "123456789012", "inf"]), member(r)]],
  [2, (r, k) => ["ZREM", k, member(r)]],
  [3, (_r, k) => ["ZRANGE", k, "0", "-1", "WITHSCORES"]],
  [1, (_r, k) => ["DEBUG", "DIGEST-VALUE", k]],
  [0.5, (_r, k) => ["DEL", k]],
  [1, (_r, k) => ["OBJECT", "ENCODING", k]],
  [1, () => ["SET", "s", "x"]],
];

test(`geo command sequences agree with Redis (SEED=${SEED})`, async () => {
  const r = rng(SEED);
  const next = weightedCommands(GENERATORS, KEYS);
  await withHistory("geo fuzzer", SEED, async (history) => {
    await o.same("FLUSHALL");
    for (let i = 0; i < STEPS; i++) {
      if (chance(r, 0.01)) {
        const resp = pick(r, ["2", "3"]);
        history.push(["HELLO", resp]);
        const [want, got] = await o.both("HELLO", resp);
        expect(got.slice(0, 1)).toBe(want.slice(0, 1));
        continue;
      }
      const command = next(r);
      history.push(command);
      await o.same(...command);
    }
    await o.same("DEBUG", "DIGEST");
  });
}, 60000);
