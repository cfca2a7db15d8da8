// Geospatial commands (Redis's geo.c): GEOADD GEODIST GEOHASH GEOPOS GEOSEARCH
// GEOSEARCHSTORE GEORADIUS GEORADIUSBYMEMBER GEORADIUS_RO GEORADIUSBYMEMBER_RO.
//
// A geospatial index is a sorted set whose scores are 52-bit geohashes (util/geohash.ts):
// GEOADD is ZADD with computed scores, and a search scans the score ranges of the 9 grid
// cells around its shape through the zset's own range walker, keeping the points inside
// the shape. Results come in the order of that scan unless sorted by distance, exactly as
// Redis returns them, and a partial sort (COUNT without ANY) uses Redis's pqsort so that
// ties between equal distances are broken the same way.

import type { Client } from "../server/client.ts";
import { ERR } from "../resp/errors.ts";
import { NOTIFY, notifyArg } from "../server/notify.ts";
import { parseDouble, parseInt64 } from "../util/numbers.ts";
import { pqsort } from "../util/pqsort.ts";
import { type CommandDef, type KeySpec, keyRange } from "./table.ts";
import {
  GEO_LAT_MAX,
  GEO_LAT_MIN,
  GEO_LONG_MAX,
  GEO_LONG_MIN,
  type GeoShape,
  cellScoreMax,
  cellScoreMin,
  decodeScore,
  decoded,
  geoDistance,
  geoScore,
  geoScoreText,
  geoWithin,
  isZeroCell,
  measured,
  sameCell,
  searchCells,
  standardGeohash,
} from "../util/geohash.ts";
import {
  IN_NX,
  IN_XX,
  OPT_CH,
  WRONG_TYPE,
  lookupZset,
  storeResult,
  walkScoreRange,
  zaddElements,
  zsetScore,
} from "./zset.ts";

// ---------------------------------------------------------------------------------------
// Arguments and reply formatting
// ---------------------------------------------------------------------------------------

/** The longitude and latitude extractLongLat last read. */
const point = { lon: 0, lat: 0 };

/**
 * Redis's extractLongLatOrReply: two doubles at argument i and i+1, within the Mercator
 * limits. Replies and returns false otherwise.
 */
function extractLongLat(c: Client, i: number): boolean {
  const argv = c.argv;
  const lon = parseDouble(argv.buf, argv.start[i]!, argv.len[i]!);
  if (lon !== lon) return replyFalse(c, ERR.notFloat);
  const lat = parseDouble(argv.buf, argv.start[i + 1]!, argv.len[i + 1]!);
  if (lat !== lat) return replyFalse(c, ERR.notFloat);
  if (lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX) {
    c.w.addError(`ERR invalid longitude,latitude pair ${formatFixed(lon, 6)},${formatFixed(lat, 6)}`);
    return false;
  }
  point.lon = lon;
  point.lat = lat;
  return true;
}

function replyFalse(c: Client, error: Uint8Array): false {
  c.w.addErrorBytes(error);
  return false;
}

/**
 * Redis's extractUnitOrReply: meters per unit for m, km, ft or mi (any case), or -1 after
 * replying.
 */
function extractUnit(c: Client, i: number): number {
  const argv = c.argv;
  if (argv.isOption(i, "m")) return 1;
  if (argv.isOption(i, "km")) return 1000;
  if (argv.isOption(i, "ft")) return 0.3048;
  if (argv.isOption(i, "mi")) return 1609.34;
  c.w.addError("ERR unsupported unit provided. please use M, KM, FT, MI");
  return -1;
}

/**
 * A non-negative double at argument i, as getDoubleFromObjectOrReply with a message
 * ("need numeric radius"): NaN after replying.
 */
function numericArg(c: Client, i: number, what: string): number {
  const argv = c.argv;
  const v = parseDouble(argv.buf, argv.start[i]!, argv.len[i]!);
  if (v !== v) c.w.addError(`ERR need numeric ${what}`);
  return v;
}

/** Redis's extractDistanceOrReply into shape (radius, conversion); false after replying. */
function extractDistance(c: Client, i: number, shape: GeoShape): boolean {
  const radius = numericArg(c, i, "radius");
  if (radius !== radius) return false;
  if (radius < 0) {
    c.w.addError("ERR radius cannot be negative");
    return false;
  }
  shape.radius = radius;
  const conversion = extractUnit(c, i + 1);
  if (conversion < 0) return false;
  shape.conversion = conversion;
  return true;
}

/** Redis's extractBoxOrReply into shape (width, height, conversion); false after replying. */
function extractBox(c: Client, i: number, shape: GeoShape): boolean {
  const width = numericArg(c, i, "width");
  if (width !== width) return false;
  const height = numericArg(c, i + 1, "height");
  if (height !== height) return false;
  if (height < 0 || width < 0) {
    c.w.addError("ERR height or width cannot be negative");
    return false;
  }
  shape.width = width;
  shape.height = height;
  const conversion = extractUnit(c, i + 2);
  if (conversion < 0) return false;
  shape.conversion = conversion;
  return true;
}

/**
 * C's "%.{digits}f" (glibc: exact value, ties to even). toFixed rounds the exact value too
 * but breaks ties upwards and drops the sign of -0, and prints exponents from 1e21 on; a
 * tie means v * 2^(digits+1) is an odd integer, and those cases go through exact digits.
 */
function formatFixed(v: number, digits: number): string {
  if (v !== v) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  const scaled = v * 2 ** (digits + 1);
  const tie = Number.isInteger(scaled) && scaled % 2 !== 0;
  if (!tie && Math.abs(v) < 1e21) return Object.is(v, -0) ? "-" + v.toFixed(digits) : v.toFixed(digits);
  return exactFixed(v, digits);
}

/** "%.{digits}f" by exact integer arithmetic on the double's binary value. */
function exactFixed(v: number, digits: number): string {
  const negative = v < 0 || Object.is(v, -0);
  let magnitude = Math.abs(v);
  let exp = 0;
  while (!Number.isInteger(magnitude)) {
    magnitude *= 2;
    exp++;
  }
  // |v| = magnitude / 2^exp exactly; round |v| * 10^digits to the nearest, ties to even.
  const numerator = BigInt(magnitude) * 10n ** BigInt(digits);
  const denominator = 1n << BigInt(exp);
  let q = numerator / denominator;
  const twice = (numerator % denominator) * 2n;
  if (twice > denominator || (twice === denominator && (q & 1n) === 1n)) q++;
  let text = q.toString().padStart(digits + 1, "0");
  if (digits > 0) text = text.slice(0, text.length - digits) + "." + text.slice(text.length - digits);
  return negative ? "-" + text : text;
}

/** Redis's addReplyDoubleDistance: "%.4f" in a bulk string, in both protocols. */
function replyDistance(c: Client, meters: number): void {
  const text = fixed4Text(meters);
  if (text >= 0) c.w.addBulkView(fixed4, text, fixed4.length - text);
  else c.w.addBulkLatin1(formatFixed(meters, 4));
}

/** Where fixed4Text writes its digits, at the end. */
const fixed4 = new Uint8Array(24);
const TWO_POW_52 = 2 ** 52;

/**
 * "%.4f" of a positive v into the end of `fixed4`, without building a string (a search
 * WITHDIST formats every result): returns where the text starts, or -1 when the fast
 * way cannot decide, and formatFixed must. The product p = v * 10^4 is within half an
 * ulp of the exact one, and below 2^52 an ulp is at most 1/2. Then p - floor(p) - 1/2,
 * unless zero, is at least an ulp away from zero (or below -1/4), farther than the exact
 * product can be from p, so its sign tells on which side of the half the exact product
 * lies. Zero may be a tie, to be broken on the exact value, and a zero v needs its sign:
 * formatFixed does both.
 */
function fixed4Text(v: number): number {
  const scaled = v * 10000;
  if (!(scaled > 0 && scaled < TWO_POW_52)) return -1;
  const floor = Math.floor(scaled);
  const aboveHalf = scaled - floor - 0.5;
  if (aboveHalf === 0) return -1;
  const units = aboveHalf > 0 ? floor + 1 : floor;
  let whole = Math.floor(units / 10000);
  let fraction = units - whole * 10000;
  let at = fixed4.length;
  for (let k = 0; k < 4; k++) {
    const rest = Math.floor(fraction / 10);
    fixed4[--at] = 48 + fraction - rest * 10;
    fraction = rest;
  }
  fixed4[--at] = 46; // '.'
  do {
    const rest = Math.floor(whole / 10);
    fixed4[--at] = 48 + whole - rest * 10;
    whole = rest;
  } while (whole > 0);
  return at;
}

/**
 * Redis's addReplyHumanLongDouble: "%.17Lf" without trailing zeros, as a bulk string in
 * RESP2 and a double in RESP3.
 */
function replyHumanDouble(c: Client, v: number): void {
  const text = humanDouble(v);
  if (c.resp === 2) c.w.addBulkLatin1(text);
  else c.w.addRaw(Buffer.from("," + text + "\r\n", "latin1"));
}

/**
 * The text of Redis's addReplyHumanLongDouble for a double, which a long double holds
 * exactly: "%.17f" without trailing zeros or a trailing dot, and "0" for "-0". It is
 * formatLongDouble's text, without the bigint arithmetic a real long double needs there
 * (several times the cost of the search itself for WITHCOORD).
 */
function humanDouble(v: number): string {
  const text = formatFixed(v, 17);
  if (text.indexOf(".") < 0) return text;
  let end = text.length;
  while (text.charCodeAt(end - 1) === 48 /* '0' */) end--;
  if (text.charCodeAt(end - 1) === 46 /* '.' */) end--;
  const trimmed = text.slice(0, end);
  return trimmed === "-0" ? "0" : trimmed;
}

/** The member's coordinates into `decoded`; false when it is not in the zset at id. */
function memberPosition(c: Client, id: number, i: number): boolean {
  const argv = c.argv;
  const score = zsetScore(c.db, id, argv.buf, argv.start[i]!, argv.len[i]!);
  if (score !== score) return false;
  decodeScore(score);
  return true;
}

// ---------------------------------------------------------------------------------------
// GEOADD
// ---------------------------------------------------------------------------------------

/** GEOADD's scores, reused. */
let geoaddScores = new Float64Array(16);

/** GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member ...] */
function geoaddCommand(c: Client): void {
  const argv = c.argv;
  let flags = 0;
  let first = 2;
  for (; first < argv.count; first++) {
    if (argv.isOption(first, "nx")) flags |= IN_NX;
    else if (argv.isOption(first, "xx")) flags |= IN_XX;
    else if (argv.isOption(first, "ch")) flags |= OPT_CH;
    else break;
  }
  const triples = argv.count - first;
  // Redis hands an empty list on to ZADD, which refuses it with the same error.
  if (triples % 3 !== 0 || triples === 0 || (flags & IN_NX && flags & IN_XX)) return c.w.addErrorBytes(ERR.syntax);
  const elements = triples / 3;
  if (geoaddScores.length < elements) geoaddScores = new Float64Array(elements * 2);
  const propagating = c.server.propagation.active;
  const texts: string[] | null = propagating ? [] : null;
  for (let j = 0; j < elements; j++) {
    if (!extractLongLat(c, first + 3 * j)) return;
    geoaddScores[j] = geoScore(point.lon, point.lat);
    if (texts !== null) texts.push(geoScoreText());
  }
  const dirtyBefore = c.server.dirty;
  zaddElements(c, first + 2, 3, geoaddScores, elements, flags);
  if (texts !== null && c.server.dirty !== dirtyBefore) propagateAsZadd(c, first, elements, texts);
}

/** Redis runs GEOADD as the ZADD it rewrites itself into, and so propagates that ZADD. */
function propagateAsZadd(c: Client, first: number, elements: number, texts: string[]): void {
  const argv = c.argv;
  const args: (string | Uint8Array)[] = ["zadd"];
  for (let i = 1; i < first; i++) args.push(argv.copy(i));
  for (let j = 0; j < elements; j++) args.push(texts[j]!, argv.copy(first + 3 * j + 2));
  c.server.propagation.replaceCommand(c.db.id, args);
}

// ---------------------------------------------------------------------------------------
// GEOPOS GEOHASH GEODIST
// ---------------------------------------------------------------------------------------

/** GEOPOS key [member ...] */
function geoposCommand(c: Client): void {
  const id = lookupZset(c, 1, false);
  if (id === WRONG_TYPE) return;
  const w = c.w;
  w.addArrayLen(c.argv.count - 2);
  for (let i = 2; i < c.argv.count; i++) {
    if (id < 0 || !memberPosition(c, id, i)) {
      w.addNullArray();
      continue;
    }
    w.addArrayLen(2);
    replyHumanDouble(c, decoded.lon);
    replyHumanDouble(c, decoded.lat);
  }
}

/** GEOHASH key [member ...] */
function geohashCommand(c: Client): void {
  const id = lookupZset(c, 1, false);
  if (id === WRONG_TYPE) return;
  const w = c.w;
  w.addArrayLen(c.argv.count - 2);
  for (let i = 2; i < c.argv.count; i++) {
    if (id < 0 || !memberPosition(c, id, i)) w.addNull();
    else w.addBulkLatin1(standardGeohash(decoded.lon, decoded.lat));
  }
}

/** GEODIST key member1 member2 [M|KM|FT|MI] */
function geodistCommand(c: Client): void {
  let toMeters = 1;
  if (c.argv.count === 5) {
    toMeters = extractUnit(c, 4);
    if (toMeters < 0) return;
  } else if (c.argv.count > 5) {
    return c.w.addErrorBytes(ERR.syntax);
  }
  const id = lookupZset(c, 1, false);
  if (id === WRONG_TYPE) return;
  if (id < 0 || !memberPosition(c, id, 2)) return c.w.addNull();
  const lon1 = decoded.lon;
  const lat1 = decoded.lat;
  if (!memberPosition(c, id, 3)) return c.w.addNull();
  replyDistance(c, geoDistance(lon1, lat1, decoded.lon, decoded.lat) / toMeters);
}

// ---------------------------------------------------------------------------------------
// Searching: GEOSEARCH GEOSEARCHSTORE GEORADIUS GEORADIUSBYMEMBER and the _RO variants
// ---------------------------------------------------------------------------------------

/** What kind of search a command is (Redis's georadiusGeneric flags). */
const RADIUS_COORDS = 1;
const RADIUS_MEMBER = 2;
const RADIUS_NOSTORE = 4;
const GEOSEARCH = 8;
const GEOSEARCHSTORE = 16;

const SORT_NONE = 0;
const SORT_ASC = 1;
const SORT_DESC = 2;

/** The search's shape, reused. */
const shape: GeoShape = { lon: 0, lat: 0, isBox: false, radius: 0, width: 0, height: 0, conversion: 1 };

/** The options georadiusGeneric parsed. */
const search = {
  withDist: false,
  withHash: false,
  withCoords: false,
  sort: SORT_NONE,
  any: false,
  /** 0 when unlimited. */
  count: 0,
  /** Argument index of the destination key, -1 when the results are replied. */
  storeAt: -1,
  storeDist: false,
};

/** The points found, in scan order (Redis's geoArray), in parallel arrays reused by every search. */
const found = {
  count: 0,
  members: [] as string[],
  scores: [] as number[],
  dists: [] as number[],
  lons: [] as number[],
  lats: [] as number[],
  /** The order to return them in: indexes into the arrays above. */
  order: [] as number[],
};

/**
 * Redis's georadiusGeneric: the source zset at argument srcIndex, then the center and
 * shape (fixed positions for GEORADIUS*, options for GEOSEARCH*), options, the scan, and
 * the reply or the stored result.
 */
function georadiusGeneric(c: Client, srcIndex: number, flags: number): void {
  const id = lookupZset(c, srcIndex, false);
  if (id === WRONG_TYPE) return;
  const base = parseCenterAndShape(c, id, flags);
  if (base < 0) return;
  if (!parseSearchOptions(c, id, base, flags)) return;
  if (!checkSearchOptions(c, flags)) return;
  if (id < 0) {
    if (search.storeAt >= 0) storeResult(c, search.storeAt, [], [], 0, "");
    else c.w.addArrayLen(0);
    return;
  }
  // COUNT without an order returns the nearest ones, unless ANY asked for any.
  if (search.count !== 0 && search.sort === SORT_NONE && !search.any) search.sort = SORT_ASC;
  scanCells(c, id, search.any ? search.count : 0);
  if (found.count === 0 && search.storeAt < 0) {
    clearFound();
    return c.w.addArrayLen(0);
  }
  const returned = search.count === 0 || found.count < search.count ? found.count : search.count;
  sortFound(returned);
  if (search.storeAt < 0) replyFound(c, returned);
  else storeFound(c, returned, flags);
  clearFound();
}

/**
 * The fixed arguments of GEORADIUS (center and radius) and GEORADIUSBYMEMBER (member and
 * radius) into `shape`; returns the index of the first option, or -1 after replying.
 */
function parseCenterAndShape(c: Client, id: number, flags: number): number {
  shape.isBox = false;
  shape.conversion = 1;
  if (flags & RADIUS_COORDS) {
    if (!extractLongLat(c, 2)) return -1;
    shape.lon = point.lon;
    shape.lat = point.lat;
    return extractDistance(c, 4, shape) ? 6 : -1;
  }
  if (flags & RADIUS_MEMBER) {
    // Without the source key Redis still parses the options, to know which reply to give.
    if (id < 0) return 5;
    if (!memberPosition(c, id, 2)) {
      c.w.addError("ERR could not decode requested zset member");
      return -1;
    }
    shape.lon = decoded.lon;
    shape.lat = decoded.lat;
    return extractDistance(c, 3, shape) ? 5 : -1;
  }
  if (flags & GEOSEARCHSTORE) return 3;
  return 2;
}

/** What parseSearchOptions saw of GEOSEARCH's center and shape options. */
const given = { fromMember: false, fromLonLat: false, byRadius: false, byBox: false };

/** The options loop of georadiusGeneric, from argument `base`; false after replying. */
function parseSearchOptions(c: Client, id: number, base: number, flags: number): boolean {
  const argv = c.argv;
  search.withDist = search.withHash = search.withCoords = search.any = search.storeDist = false;
  search.sort = SORT_NONE;
  search.count = 0;
  search.storeAt = flags & GEOSEARCHSTORE ? 1 : -1;
  given.fromMember = given.fromLonLat = given.byRadius = given.byBox = false;
  const isSearch = (flags & GEOSEARCH) !== 0;
  const canStore = (flags & (RADIUS_NOSTORE | GEOSEARCH)) === 0;
  for (let i = base; i < argv.count; i++) {
    const left = argv.count - i - 1;
    if (argv.isOption(i, "withdist")) search.withDist = true;
    else if (argv.isOption(i, "withhash")) search.withHash = true;
    else if (argv.isOption(i, "withcoord")) search.withCoords = true;
    else if (argv.isOption(i, "any")) search.any = true;
    else if (argv.isOption(i, "asc")) search.sort = SORT_ASC;
    else if (argv.isOption(i, "desc")) search.sort = SORT_DESC;
    else if (argv.isOption(i, "count") && left >= 1) {
      if (!parseCount(c, ++i)) return false;
    } else if (canStore && left >= 1 && (argv.isOption(i, "store") || argv.isOption(i, "storedist"))) {
      search.storeDist = argv.isOption(i, "storedist");
      search.storeAt = ++i;
    } else if (isSearch && flags & GEOSEARCHSTORE && argv.isOption(i, "storedist")) {
      search.storeDist = true;
    } else if (isSearch && left >= 1 && !given.fromLonLat && argv.isOption(i, "frommember")) {
      if (!searchFromMember(c, id, ++i)) return false;
    } else if (isSearch && left >= 2 && !given.fromMember && argv.isOption(i, "fromlonlat")) {
      if (!extractLongLat(c, i + 1)) return false;
      shape.lon = point.lon;
      shape.lat = point.lat;
      given.fromLonLat = true;
      i += 2;
    } else if (isSearch && left >= 2 && !given.byBox && argv.isOption(i, "byradius")) {
      if (!extractDistance(c, i + 1, shape)) return false;
      shape.isBox = false;
      given.byRadius = true;
      i += 2;
    } else if (isSearch && left >= 3 && !given.byRadius && argv.isOption(i, "bybox")) {
      if (!extractBox(c, i + 1, shape)) return false;
      shape.isBox = true;
      given.byBox = true;
      i += 3;
    } else {
      c.w.addErrorBytes(ERR.syntax);
      return false;
    }
  }
  return true;
}

/** COUNT's argument: an integer above 0; false after replying. */
function parseCount(c: Client, i: number): boolean {
  const argv = c.argv;
  const count = parseInt64(argv.buf, argv.start[i]!, argv.len[i]!);
  if (count === null) return replyFalse(c, ERR.notInteger);
  if (count <= 0) {
    c.w.addError("ERR COUNT must be > 0");
    return false;
  }
  search.count = Number(count);
  return true;
}

/** FROMMEMBER: the member's position is the center (nothing to read without the key). */
function searchFromMember(c: Client, id: number, i: number): boolean {
  if (id >= 0) {
    if (!memberPosition(c, id, i)) {
      c.w.addError("ERR could not decode requested zset member");
      return false;
    }
    shape.lon = decoded.lon;
    shape.lat = decoded.lat;
  }
  given.fromMember = true;
  return true;
}

/** The checks after the options loop, in Redis's order; false after replying. */
function checkSearchOptions(c: Client, flags: number): boolean {
  if (search.storeAt >= 0 && (search.withDist || search.withHash || search.withCoords)) {
    const what = flags & GEOSEARCHSTORE ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS";
    c.w.addError(`ERR ${what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
    return false;
  }
  if (flags & GEOSEARCH && !(given.fromMember || given.fromLonLat)) {
    c.w.addError(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${c.argv.str(0)}`);
    return false;
  }
  if (flags & GEOSEARCH && !(given.byRadius || given.byBox)) {
    c.w.addError(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${c.argv.str(0)}`);
    return false;
  }
  if (search.any && search.count === 0) {
    c.w.addError("ERR the ANY argument requires COUNT argument");
    return false;
  }
  return true;
}

/**
 * Redis's membersOfAllNeighbors: scans the score range of each of the 9 cells, skipping
 * zero cells and a cell equal to the one scanned last (wide searches wrap around the
 * grid), and stopping once `limit` points (ANY) were found.
 */
function scanCells(c: Client, id: number, limit: number): void {
  const cells = searchCells(shape);
  let last = 0;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i]!;
    if (isZeroCell(cell)) continue;
    // As in Redis, the comparison is skipped while the last cell scanned is the center.
    if (last !== 0 && sameCell(cell, cells[last]!)) continue;
    if (found.count > 0 && limit > 0 && found.count >= limit) break;
    scanRange(c, id, cellScoreMin(cell), cellScoreMax(cell), limit);
    last = i;
  }
}

/** Redis's geoGetPointsInRange: the points with min <= score < max that are inside the shape. */
function scanRange(c: Client, id: number, min: number, max: number, limit: number): void {
  const walk = walkScoreRange(c.db, id, min, max);
  for (; !walk.done; walk.step(false)) {
    const score = walk.score();
    if (!(score < max)) break;
    decodeScore(score);
    if (geoWithin(shape, decoded.lon, decoded.lat)) {
      const n = found.count++;
      found.members[n] = walk.member();
      found.scores[n] = score;
      found.dists[n] = measured.distance;
      found.lons[n] = decoded.lon;
      found.lats[n] = decoded.lat;
      if (limit > 0 && found.count >= limit) break;
    }
  }
  walk.close();
}

/** Drops the references the last search held. */
function clearFound(): void {
  found.count = 0;
  found.members.length = 0;
  found.order.length = 0;
}

/**
 * Puts the first `returned` points in the requested order: a full sort is glibc's qsort,
 * a merge sort and so stable like Array.prototype.sort; a partial one is Redis's pqsort.
 */
function sortFound(returned: number): void {
  const order = found.order;
  for (let i = 0; i < found.count; i++) order[i] = i;
  order.length = found.count;
  if (search.sort === SORT_NONE) return;
  const compare = search.sort === SORT_ASC ? compareAscending : compareDescending;
  if (returned === found.count) order.sort(compare);
  else pqsort(order, 0, found.count, 0, returned - 1, compare);
}

function compareAscending(a: number, b: number): number {
  const da = found.dists[a]!;
  const db = found.dists[b]!;
  return da > db ? 1 : da === db ? 0 : -1;
}

function compareDescending(a: number, b: number): number {
  return -compareAscending(a, b);
}

/** Sends the first `returned` points, each with the requested extras. */
function replyFound(c: Client, returned: number): void {
  const w = c.w;
  const extras = (search.withDist ? 1 : 0) + (search.withHash ? 1 : 0) + (search.withCoords ? 1 : 0);
  w.addArrayLen(returned);
  for (let k = 0; k < returned; k++) {
    const i = found.order[k]!;
    if (extras > 0) w.addArrayLen(extras + 1);
    w.addBulkLatin1(found.members[i]!);
    if (search.withDist) replyDistance(c, found.dists[i]! / shape.conversion);
    if (search.withHash) w.addInteger(Math.trunc(found.scores[i]!));
    if (search.withCoords) {
      w.addArrayLen(2);
      replyHumanDouble(c, found.lons[i]!);
      replyHumanDouble(c, found.lats[i]!);
    }
  }
}

/**
 * Stores the first `returned` points at the destination, scored by geohash or (STOREDIST)
 * by distance in the search's unit. Redis counts each stored element as a change.
 */
function storeFound(c: Client, returned: number, flags: number): void {
  const members: string[] = [];
  const scores: number[] = [];
  for (let k = 0; k < returned; k++) {
    const i = found.order[k]!;
    members[k] = found.members[i]!;
    scores[k] = search.storeDist ? found.dists[i]! / shape.conversion : found.scores[i]!;
  }
  storeResult(c, search.storeAt, members, scores, returned, flags & GEOSEARCH ? "geosearchstore" : "georadiusstore");
  if (returned > 0) c.server.dirty += returned - 1;
}

/** GEORADIUS key longitude latitude radius M|KM|FT|MI [options] [STORE key] [STOREDIST key] */
function georadiusCommand(c: Client): void {
  georadiusGeneric(c, 1, RADIUS_COORDS);
}

/** GEORADIUSBYMEMBER key member radius M|KM|FT|MI [options] [STORE key] [STOREDIST key] */
function georadiusbymemberCommand(c: Client): void {
  georadiusGeneric(c, 1, RADIUS_MEMBER);
}

/** GEORADIUS_RO key longitude latitude radius M|KM|FT|MI [options] */
function georadiusRoCommand(c: Client): void {
  georadiusGeneric(c, 1, RADIUS_COORDS | RADIUS_NOSTORE);
}

/** GEORADIUSBYMEMBER_RO key member radius M|KM|FT|MI [options] */
function georadiusbymemberRoCommand(c: Client): void {
  georadiusGeneric(c, 1, RADIUS_MEMBER | RADIUS_NOSTORE);
}

/** GEOSEARCH key FROMMEMBER member|FROMLONLAT lon lat BYRADIUS r unit|BYBOX w h unit [options] */
function geosearchCommand(c: Client): void {
  georadiusGeneric(c, 1, GEOSEARCH);
}

/** GEOSEARCHSTORE destination source FROMMEMBER ...|FROMLONLAT ... BYRADIUS ...|BYBOX ... [STOREDIST] */
function geosearchstoreCommand(c: Client): void {
  georadiusGeneric(c, 2, GEOSEARCH | GEOSEARCHSTORE);
}

// ---------------------------------------------------------------------------------------
// The command table
// ---------------------------------------------------------------------------------------

const KEY = { name: "key", type: "key", key_spec_index: 0 };
const RO_ACCESS: KeySpec[] = [keyRange("RO access", 1)];
const MEMBERS = { name: "member", type: "string", flags: ["multiple"] };
const unitTokens = (): unknown[] => ["m", "km", "ft", "mi"].map((u) => ({ name: u, type: "pure-token", token: u.toUpperCase() }));
const UNIT = { name: "unit", type: "oneof", arguments: unitTokens() };
const WITH_OPTIONS = ["withcoord", "withdist", "withhash"].map((o) => ({ name: o, type: "pure-token", token: o.toUpperCase(), flags: ["optional"] }));
const ORDER = {
  name: "order", type: "oneof", flags: ["optional"],
  arguments: [{ name: "asc", type: "pure-token", token: "ASC" }, { name: "desc", type: "pure-token", token: "DESC" }],
};
/** COUNT count [ANY]; GEORADIUS and GEORADIUS_RO document when ANY came. */
const countBlock = (anySince: boolean): unknown => ({
  name: "count", type: "block", flags: ["optional"],
  arguments: [
    { name: "count", type: "integer", token: "COUNT" },
    { name: "any", type: "pure-token", token: "ANY", flags: ["optional"], ...(anySince ? { since: "6.2.0" } : {}) },
  ],
});
const RADIUS_COMPLEXITY =
  "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";
const SEARCH_COMPLEXITY =
  "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape";
const UPPERCASE_UNITS: [string, string] = ["7.0.0", "Added support for uppercase unit names."];
const ANY_ADDED: [string, string] = ["6.2.0", "Added the `ANY` option for `COUNT`."];
/** GEORADIUS's and GEORADIUSBYMEMBER's STORE and STOREDIST destinations, found by keyword after the fixed arguments. */
const storeKeySpecs = (startfrom: number): KeySpec[] => [
  keyRange("RO access", 1),
  { flags: "OW update", begin: { keyword: "STORE", startfrom }, find: { lastkey: 0, keystep: 1, limit: 0 } },
  { flags: "OW update", begin: { keyword: "STOREDIST", startfrom }, find: { lastkey: 0, keystep: 1, limit: 0 } },
];
const STORE_ARGUMENTS = [
  { name: "key", type: "key", key_spec_index: 1, token: "STORE", flags: ["optional"] },
  { name: "key", type: "key", key_spec_index: 2, token: "STOREDIST", flags: ["optional"] },
];
const FROM = {
  name: "from", type: "oneof",
  arguments: [
    { name: "member", type: "string", token: "FROMMEMBER" },
    { name: "longitude_latitude", type: "block", token: "FROMLONLAT", arguments: [{ name: "longitude", type: "double" }, { name: "latitude", type: "double" }] },
  ],
};
const BY = {
  name: "by", type: "oneof",
  arguments: [
    { name: "circle", type: "block", arguments: [{ name: "radius", type: "double", token: "BYRADIUS" }, UNIT] },
    { name: "box", type: "block", arguments: [{ name: "width", type: "double", token: "BYBOX" }, { name: "height", type: "double" }, UNIT] },
  ],
};
const CENTER_COORDS = [KEY, { name: "longitude", type: "double" }, { name: "latitude", type: "double" }, { name: "radius", type: "double" }, UNIT];
const CENTER_MEMBER = [KEY, { name: "member", type: "string" }, { name: "radius", type: "double" }, UNIT];

export const geoCommands: CommandDef[] = [
  {
    name: "geoadd", arity: -5, flags: "write denyoom", acl: "geo", group: "geo", since: "3.2.0",
    summary: "Add one or more geospatial items in the geospatial index represented using a sorted set",
    complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
    history: [["6.2.0", "Added the `CH`, `NX` and `XX` options."]],
    keySpecs: [keyRange("RW update", 1)],
    arguments: [
      KEY,
      {
        name: "condition", type: "oneof", flags: ["optional"], since: "6.2.0",
        arguments: [{ name: "nx", type: "pure-token", token: "NX" }, { name: "xx", type: "pure-token", token: "XX" }],
      },
      { name: "change", type: "pure-token", token: "CH", flags: ["optional"], since: "6.2.0" },
      {
        name: "longitude_latitude_member", type: "block", flags: ["multiple"],
        arguments: [{ name: "longitude", type: "double" }, { name: "latitude", type: "double" }, { name: "member", type: "string" }],
      },
    ],
    handler: geoaddCommand,
  },
  {
    name: "geodist", arity: -4, flags: "readonly", acl: "geo", group: "geo", since: "3.2.0",
    summary: "Returns the distance between two members of a geospatial index", complexity: "O(log(N))",
    keySpecs: RO_ACCESS,
    arguments: [KEY, { name: "member1", type: "string" }, { name: "member2", type: "string" }, { ...UNIT, flags: ["optional"] }],
    handler: geodistCommand,
  },
  {
    name: "geohash", arity: -2, flags: "readonly", acl: "geo", group: "geo", since: "3.2.0",
    summary: "Returns members of a geospatial index as standard geohash strings",
    complexity: "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
    keySpecs: RO_ACCESS, arguments: [KEY, MEMBERS], handler: geohashCommand,
  },
  {
    name: "geopos", arity: -2, flags: "readonly", acl: "geo", group: "geo", since: "3.2.0",
    summary: "Returns longitude and latitude of members of a geospatial index",
    complexity: "O(N) where N is the number of members requested.",
    keySpecs: RO_ACCESS, arguments: [KEY, MEMBERS], handler: geoposCommand,
  },
  {
    name: "georadius", arity: -6, flags: "write denyoom movablekeys", acl: "geo", group: "geo", since: "3.2.0",
    summary: "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
    complexity: RADIUS_COMPLEXITY, docFlags: ["deprecated"], deprecatedSince: "6.2.0",
    replacedBy: "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument",
    history: [ANY_ADDED, UPPERCASE_UNITS], keySpecs: storeKeySpecs(6),
    arguments: [...CENTER_COORDS, ...WITH_OPTIONS, countBlock(true), ORDER, ...STORE_ARGUMENTS],
    handler: georadiusCommand,
  },
  {
    name: "georadiusbymember", arity: -5, flags: "write denyoom movablekeys", acl: "geo", group: "geo", since: "3.2.0",
    summary: "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
    complexity: RADIUS_COMPLEXITY, docFlags: ["deprecated"], deprecatedSince: "6.2.0",
    replacedBy: "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments",
    history: [UPPERCASE_UNITS], keySpecs: storeKeySpecs(5),
    arguments: [...CENTER_MEMBER, ...WITH_OPTIONS, countBlock(false), ORDER, ...STORE_ARGUMENTS],
    handler: georadiusbymemberCommand,
  },
  {
    name: "georadius_ro", arity: -6, flags: "readonly", acl: "geo", group: "geo", since: "3.2.10",
    summary: "A read-only variant for GEORADIUS", complexity: RADIUS_COMPLEXITY,
    docFlags: ["deprecated"], deprecatedSince: "6.2.0", replacedBy: "`GEOSEARCH` with the `BYRADIUS` argument",
    history: [ANY_ADDED], keySpecs: RO_ACCESS,
    arguments: [...CENTER_COORDS, ...WITH_OPTIONS, countBlock(true), ORDER],
    handler: georadiusRoCommand,
  },
  {
    name: "georadiusbymember_ro", arity: -5, flags: "readonly", acl: "geo", group: "geo", since: "3.2.10",
    summary: "A read-only variant for GEORADIUSBYMEMBER", complexity: RADIUS_COMPLEXITY,
    docFlags: ["deprecated"], deprecatedSince: "6.2.0", replacedBy: "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments",
    keySpecs: RO_ACCESS,
    arguments: [...CENTER_MEMBER, ...WITH_OPTIONS, countBlock(false), ORDER],
    handler: georadiusbymemberRoCommand,
  },
  {
    name: "geosearch", arity: -7, flags: "readonly", acl: "geo", group: "geo", since: "6.2.0",
    summary: "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
    complexity: SEARCH_COMPLEXITY, history: [UPPERCASE_UNITS], keySpecs: RO_ACCESS,
    arguments: [KEY, FROM, BY, ORDER, countBlock(false), ...WITH_OPTIONS],
    handler: geosearchCommand,
  },
  {
    name: "geosearchstore", arity: -8, flags: "write denyoom", acl: "geo", group: "geo", since: "6.2.0",
    summary:
      "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
    complexity: SEARCH_COMPLEXITY, history: [UPPERCASE_UNITS],
    keySpecs: [keyRange("OW update", 1), keyRange("RO access", 2)],
    arguments: [
      { name: "destination", type: "key", key_spec_index: 0 },
      { name: "source", type: "key", key_spec_index: 1 },
      FROM, BY, ORDER, countBlock(false),
      { name: "storedist", type: "pure-token", token: "STOREDIST", flags: ["optional"] },
    ],
    handler: geosearchstoreCommand,
  },
];
