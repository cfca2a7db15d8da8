// Geohashes as Redis 7.0 computes them (geohash.c, geohash_helper.c): a point is a cell of
// a 2^26 x 2^26 grid over longitude -180..180 and latitude -85.05112878..85.05112878 (the
// Web Mercator limits), its 52-bit score the cell's latitude and longitude indexes with
// their bits interleaved (latitude in the even bits). A radius or box search covers its
// shape with a cell of a coarser grid and that cell's 8 neighbours, each of which is one
// contiguous range of scores.
//
// Every floating point step is the one Redis's x86-64 build performs, in the same order,
// so that coordinates, distances and the cells searched come out bit for bit the same.
// Redis's 64-bit integers are held as two unsigned 32-bit halves (scores, cells and their
// moves): no bigint per point or per search; only GEOHASH's strings and the propagated
// score of a point on the grid's east or north edge use them.

export const GEO_STEP_MAX = 26;
export const GEO_LAT_MIN = -85.05112878;
export const GEO_LAT_MAX = 85.05112878;
export const GEO_LONG_MIN = -180;
export const GEO_LONG_MAX = 180;

/** Earth's quadratic mean radius for WGS-84, in meters (EARTH_RADIUS_IN_METERS). */
const EARTH_RADIUS_IN_METERS = 6372797.560856;
/** Half the equator's length in the Mercator projection: the widest search step 1 covers. */
const MERCATOR_MAX = 20037726.37;
/** Degrees to radians, as the C macro D_R = M_PI / 180.0 computes it. */
const D_R = Math.PI / 180.0;
const TWO_POW_32 = 4294967296;
/** 2^-32: multiplying by it is dividing by 2^32 exactly, and cheaper. */
const INV_TWO_POW_32 = 1 / TWO_POW_32;
const TWO_POW_52 = 4503599627370496;
const TWO_POW_53 = 9007199254740992;
const TWO_POW_63 = 9223372036854775808;

/** A cell of the grid with 2^step cells per axis: Redis's GeoHashBits. */
export interface GeoCell {
  /** The cell's interleaved indexes (Redis's uint64 bits) in unsigned 32-bit halves. */
  hi: number;
  lo: number;
  step: number;
}

/** A cell's bounds in degrees: Redis's GeoHashArea. */
export interface GeoArea {
  lonMin: number;
  lonMax: number;
  latMin: number;
  latMax: number;
}

/** The longitude and latitude the last decode produced (Redis's xy[2]). */
export const decoded = { lon: 0, lat: 0 };

// ---------------------------------------------------------------------------------------
// Interleaving, on 32-bit halves
// ---------------------------------------------------------------------------------------

/** The 16 low bits of v spread to the even bits of a 32-bit word. */
function spreadBits(v: number): number {
  v &= 0xffff;
  v = (v | (v << 8)) & 0x00ff00ff;
  v = (v | (v << 4)) & 0x0f0f0f0f;
  v = (v | (v << 2)) & 0x33333333;
  v = (v | (v << 1)) & 0x55555555;
  return v >>> 0;
}

/** The even bits of a 32-bit word gathered into 16 bits (spreadBits undone). */
function gatherBits(v: number): number {
  v &= 0x55555555;
  v = (v | (v >>> 1)) & 0x33333333;
  v = (v | (v >>> 2)) & 0x0f0f0f0f;
  v = (v | (v >>> 4)) & 0x00ff00ff;
  v = (v | (v >>> 8)) & 0x0000ffff;
  return v;
}

/** The high and low 32-bit halves of the last interleave. */
const halves = { hi: 0, lo: 0 };

/** Redis's interleave64: latitude index bits in the even positions, longitude's in the odd. */
function interleave(latIndex: number, lonIndex: number): void {
  halves.lo = (spreadBits(latIndex) | (spreadBits(lonIndex) << 1)) >>> 0;
  halves.hi = (spreadBits(latIndex >>> 16) | (spreadBits(lonIndex >>> 16) << 1)) >>> 0;
}

/** C's (uint32_t) of a non-negative double below 2^64, as x86-64 converts it (through int64). */
function toUint32(v: number): number {
  // GEOADD's offsets (below 2^26) take the first branch, without a floating remainder.
  return v < TWO_POW_32 ? v >>> 0 : Math.trunc(v) % TWO_POW_32 >>> 0;
}

// ---------------------------------------------------------------------------------------
// Encoding a point
// ---------------------------------------------------------------------------------------

/**
 * Redis's geohashEncode over the given ranges into `halves`: false when the point is
 * outside the Mercator limits or the ranges. The offsets are truncated to integers as C
 * does when it converts them to uint32_t.
 */
function encodeHalves(lon: number, lat: number, step: number, lonMin: number, lonMax: number, latMin: number, latMax: number): boolean {
  if (lon > GEO_LONG_MAX || lon < GEO_LONG_MIN || lat > GEO_LAT_MAX || lat < GEO_LAT_MIN) return false;
  if (lat < latMin || lat > latMax || lon < lonMin || lon > lonMax) return false;
  let latOffset = (lat - latMin) / (latMax - latMin);
  let lonOffset = (lon - lonMin) / (lonMax - lonMin);
  const cells = 2 ** step;
  latOffset *= cells;
  lonOffset *= cells;
  interleave(toUint32(latOffset), toUint32(lonOffset));
  return true;
}

/**
 * The sorted set score GEOADD gives a point (already checked to be within the limits):
 * the 52-bit geohash, rounded to a double as ZADD's strtod rounds its decimal text.
 */
export function geoScore(lon: number, lat: number): number {
  encodeHalves(lon, lat, GEO_STEP_MAX, GEO_LONG_MIN, GEO_LONG_MAX, GEO_LAT_MIN, GEO_LAT_MAX);
  // One correctly rounded addition: hi * 2^32 is exact.
  return halves.hi * TWO_POW_32 + halves.lo;
}

/** The exact decimal text of the score geoScore last computed (what GEOADD propagates as ZADD). */
export function geoScoreText(): string {
  // Below 2^53 the sum is the exact integer, and JS prints such integers in full; a point
  // on the grid's east or north edge has an index of 2^26, one bit more, and can go beyond.
  const score = halves.hi * TWO_POW_32 + halves.lo;
  if (score < TWO_POW_53) return String(score);
  return ((BigInt(halves.hi) << 32n) | BigInt(halves.lo)).toString();
}

const GEOHASH_ALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz";

/**
 * GEOHASH's 11-character string for a decoded point: the point encoded again on the
 * standard latitude range -90..90, 52 bits in 10 characters of 5 bits, and a last
 * character that is always "0" (Redis has no 55th bit).
 */
export function standardGeohash(lon: number, lat: number): string {
  encodeHalves(lon, lat, GEO_STEP_MAX, -180, 180, -90, 90);
  const bits = (BigInt(halves.hi) << 32n) | BigInt(halves.lo);
  let s = "";
  for (let i = 0; i < 10; i++) s += GEOHASH_ALPHABET[Number((bits >> BigInt(52 - (i + 1) * 5)) & 0x1fn)];
  return s + "0";
}

// ---------------------------------------------------------------------------------------
// Decoding a score
// ---------------------------------------------------------------------------------------

/**
 * Puts the 64-bit integer C's (uint64_t) cast makes of a score into `halves`, as Redis's
 * x86-64 build converts: below 2^63 through a signed conversion (a negative score wraps
 * to two's complement, one below -2^63 gives 2^63), from 2^63 on by subtracting 2^63
 * first (so 2^64 and beyond give 0).
 */
function scoreToHalves(score: number): void {
  if (score >= TWO_POW_63) {
    const rest = score - TWO_POW_63;
    if (rest >= TWO_POW_63) {
      halves.hi = 0;
      halves.lo = 0;
      return;
    }
    const t = Math.trunc(rest);
    halves.hi = (Math.floor(t / TWO_POW_32) | 0x80000000) >>> 0;
    halves.lo = t % TWO_POW_32 >>> 0;
    return;
  }
  if (!(score > -TWO_POW_63)) {
    // cvttsd2si's "integer indefinite" for -2^63 and beyond, and -2^63 itself.
    halves.hi = 0x80000000;
    halves.lo = 0;
    return;
  }
  const t = Math.trunc(score);
  const magnitude = Math.abs(t);
  const hi = Math.floor(magnitude / TWO_POW_32);
  const lo = magnitude - hi * TWO_POW_32;
  if (t >= 0) {
    halves.hi = hi >>> 0;
    halves.lo = lo >>> 0;
    return;
  }
  // Two's complement of the magnitude.
  halves.lo = (~lo + 1) >>> 0;
  halves.hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
}

/** Latitude and longitude indexes of the last deinterleave (Redis's ilato, ilono). */
const indexes = { lat: 0, lon: 0 };

/** Redis's deinterleave64 over `halves`. */
function deinterleave(): void {
  indexes.lat = (gatherBits(halves.lo) | (gatherBits(halves.hi) << 16)) >>> 0;
  indexes.lon = (gatherBits(halves.lo >>> 1) | (gatherBits(halves.hi >>> 1) << 16)) >>> 0;
}

const LAT_SCALE = GEO_LAT_MAX - GEO_LAT_MIN;
const LONG_SCALE = GEO_LONG_MAX - GEO_LONG_MIN;
/** Cells per axis at the finest step, 2^26. */
const STEP_MAX_CELLS = 2 ** GEO_STEP_MAX;

/**
 * One bound of a cell on one axis: Redis's `min + (index * 1.0 / (1ull << step)) * scale`.
 * `cells` is a power of two, so multiplying by its inverse (exact) gives the quotient bit
 * for bit, without a division per bound.
 */
function cellBound(min: number, index: number, cells: number, scale: number): number {
  return min + index * (1 / cells) * scale;
}

/**
 * Redis's decodeGeohash (geohashDecodeToLongLatWGS84 at step 26): the center of the
 * score's cell, clamped to the limits, into `decoded`. Any score decodes, even one ZADD
 * put there; C's uint32 arithmetic wraps `index + 1` as here.
 */
export function decodeScore(score: number): void {
  if (score >= 0 && score < TWO_POW_52) {
    // Every score GEOADD makes, decoded without leaving int32 arithmetic: the quotient by
    // 2^32 is exact, so its truncation is the high half (below 2^20); the rest is exact
    // too, and `| 0` truncates its fraction as the cast does, keeping its 32 bits. Both
    // indexes are then below 2^26.
    const hi = (score * INV_TWO_POW_32) | 0;
    const lo = (score - hi * TWO_POW_32) | 0;
    return decodeIndexes(gatherBits(lo) | (gatherBits(hi) << 16), gatherBits(lo >>> 1) | (gatherBits(hi >>> 1) << 16));
  }
  scoreToHalves(score);
  deinterleave();
  decodeIndexes(indexes.lat, indexes.lon);
}

/** The center of the step-26 cell at the given indexes, clamped to the limits, into `decoded`. */
function decodeIndexes(latIndex: number, lonIndex: number): void {
  const latMin = cellBound(GEO_LAT_MIN, latIndex, STEP_MAX_CELLS, LAT_SCALE);
  const latMax = cellBound(GEO_LAT_MIN, (latIndex + 1) >>> 0, STEP_MAX_CELLS, LAT_SCALE);
  const lonMin = cellBound(GEO_LONG_MIN, lonIndex, STEP_MAX_CELLS, LONG_SCALE);
  const lonMax = cellBound(GEO_LONG_MIN, (lonIndex + 1) >>> 0, STEP_MAX_CELLS, LONG_SCALE);
  // Halving by a multiply is exact, as the division is.
  let lon = (lonMin + lonMax) * 0.5;
  if (lon > GEO_LONG_MAX) lon = GEO_LONG_MAX;
  if (lon < GEO_LONG_MIN) lon = GEO_LONG_MIN;
  let lat = (latMin + latMax) * 0.5;
  if (lat > GEO_LAT_MAX) lat = GEO_LAT_MAX;
  if (lat < GEO_LAT_MIN) lat = GEO_LAT_MIN;
  decoded.lon = lon;
  decoded.lat = lat;
}

// ---------------------------------------------------------------------------------------
// Cells and their neighbours, on 32-bit halves
// ---------------------------------------------------------------------------------------

/** Redis's geohashEncode with the WGS84 ranges at a coarser step, into `cell`; the empty cell when outside. */
function encodeCell(cell: GeoCell, lon: number, lat: number, step: number): void {
  cell.step = step;
  if (!encodeHalves(lon, lat, step, GEO_LONG_MIN, GEO_LONG_MAX, GEO_LAT_MIN, GEO_LAT_MAX)) {
    cell.hi = 0;
    cell.lo = 0;
    return;
  }
  cell.hi = halves.hi;
  cell.lo = halves.lo;
}

/** Redis's HASHISZERO: a cell ruled out of the search. */
export function isZeroCell(cell: GeoCell): boolean {
  return cell.hi === 0 && cell.lo === 0 && cell.step === 0;
}

/** Whether two cells are the same (equal bits and step). */
export function sameCell(a: GeoCell, b: GeoCell): boolean {
  return a.hi === b.hi && a.lo === b.lo && a.step === b.step;
}

/** Redis's geohashDecode with the WGS84 ranges; null for the zero cell. */
export function cellArea(cell: GeoCell): GeoArea | null {
  const area: GeoArea = { lonMin: 0, lonMax: 0, latMin: 0, latMax: 0 };
  return areaInto(cell, area) ? area : null;
}

/** cellArea into `area`; false for the zero cell. */
function areaInto(cell: GeoCell, area: GeoArea): boolean {
  if (isZeroCell(cell)) return false;
  halves.hi = cell.hi;
  halves.lo = cell.lo;
  deinterleave();
  const cells = 2 ** cell.step;
  area.latMin = cellBound(GEO_LAT_MIN, indexes.lat, cells, LAT_SCALE);
  area.latMax = cellBound(GEO_LAT_MIN, (indexes.lat + 1) >>> 0, cells, LAT_SCALE);
  area.lonMin = cellBound(GEO_LONG_MIN, indexes.lon, cells, LONG_SCALE);
  area.lonMax = cellBound(GEO_LONG_MIN, (indexes.lon + 1) >>> 0, cells, LONG_SCALE);
  return true;
}

/** The even (latitude) and odd (longitude) bits of a 32-bit half. */
const EVEN_32 = 0x55555555;
const ODD_32 = 0xaaaaaaaa;

/** The halves moveHalves left in `moved`. */
const moved = { hi: 0, lo: 0 };

/**
 * Redis's geohash_move_x (odd bits, longitude) or geohash_move_y (even bits, latitude) on
 * a cell's 64 bits in halves, into `moved`: the cell `d` steps east/north (d > 0) or
 * west/south (d < 0), wrapping around the grid, with uint64 arithmetic.
 */
function moveHalves(hi: number, lo: number, step: number, d: number, alongLongitude: boolean): void {
  if (d === 0) {
    moved.hi = hi;
    moved.lo = lo;
    return;
  }
  const movedMask = alongLongitude ? ODD_32 : EVEN_32;
  const keptMask = alongLongitude ? EVEN_32 : ODD_32;
  // zz = kept >> (64 - 2*step), and the moved mask shifted alike: the pattern repeats in
  // both halves, and the shift is 12 or more (step is at most 26).
  const shift = 64 - step * 2;
  const zzHi = shift >= 32 ? 0 : keptMask >>> shift;
  const zzLo = shift >= 32 ? keptMask >>> (shift - 32) : ((keptMask >>> shift) | (keptMask << (32 - shift))) >>> 0;
  const maskHi = shift >= 32 ? 0 : movedMask >>> shift;
  const maskLo = shift >= 32 ? movedMask >>> (shift - 32) : ((movedMask >>> shift) | (movedMask << (32 - shift))) >>> 0;
  let vHi = (hi & movedMask) >>> 0;
  let vLo = (lo & movedMask) >>> 0;
  if (d > 0) {
    // v + (zz + 1), modulo 2^64.
    const sumLo = vLo + zzLo + 1;
    vLo = sumLo >>> 0;
    vHi = (vHi + zzHi + (sumLo >= TWO_POW_32 ? 1 : 0)) >>> 0;
  } else {
    // (v | zz) - (zz + 1), modulo 2^64.
    const orHi = (vHi | zzHi) >>> 0;
    const orLo = (vLo | zzLo) >>> 0;
    const subLo = orLo - zzLo - 1;
    vLo = subLo >>> 0;
    vHi = (orHi - zzHi - (subLo < 0 ? 1 : 0)) >>> 0;
  }
  moved.hi = ((vHi & maskHi) | (hi & keptMask)) >>> 0;
  moved.lo = ((vLo & maskLo) | (lo & keptMask)) >>> 0;
}

/** `target` becomes the cell dx east and dy north of `center`. */
function neighbourInto(target: GeoCell, center: GeoCell, dx: number, dy: number): void {
  moveHalves(center.hi, center.lo, center.step, dx, true);
  moveHalves(moved.hi, moved.lo, center.step, dy, false);
  target.step = center.step;
  target.hi = moved.hi;
  target.lo = moved.lo;
}

// ---------------------------------------------------------------------------------------
// Distances
// ---------------------------------------------------------------------------------------

function degRad(ang: number): number {
  return ang * D_R;
}

function radDeg(ang: number): number {
  return ang / D_R;
}

/** Redis's geohashGetLatDistance: meters between two latitudes on one meridian. */
function latDistance(lat1: number, lat2: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(degRad(lat2) - degRad(lat1));
}

/** Redis's geohashGetDistance: the haversine distance in meters. */
export function geoDistance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const lon1r = degRad(lon1);
  const lon2r = degRad(lon2);
  const v = Math.sin((lon2r - lon1r) / 2);
  // Redis skips the expensive formula when the longitudes are practically the same.
  if (v === 0) return latDistance(lat1, lat2);
  const lat1r = degRad(lat1);
  const lat2r = degRad(lat2);
  const u = Math.sin((lat2r - lat1r) / 2);
  const a = u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(a));
}

/** The distance geoWithin last measured, in meters. */
export const measured = { distance: 0 };

/** A search shape: a circle (radius) or a box (width, height), in `conversion` meters each. */
export interface GeoShape {
  lon: number;
  lat: number;
  isBox: boolean;
  radius: number;
  width: number;
  height: number;
  /** Meters per unit. */
  conversion: number;
}

/**
 * Redis's geoAppendIfWithinShape test: whether (lon, lat) is inside the shape
 * (geohashGetDistanceIfInRadiusWGS84 or geohashGetDistanceIfInRectangle), its distance
 * from the center in `measured`.
 */
export function geoWithin(shape: GeoShape, lon: number, lat: number): boolean {
  if (!shape.isBox) {
    const distance = geoDistance(shape.lon, shape.lat, lon, lat);
    measured.distance = distance;
    return distance <= shape.radius * shape.conversion;
  }
  const widthMeters = shape.width * shape.conversion;
  const heightMeters = shape.height * shape.conversion;
  // The latitude distance costs less, so Redis checks it first.
  if (latDistance(lat, shape.lat) > heightMeters / 2) return false;
  if (geoDistance(lon, lat, shape.lon, lat) > widthMeters / 2) return false;
  measured.distance = geoDistance(shape.lon, shape.lat, lon, lat);
  return true;
}

// ---------------------------------------------------------------------------------------
// The cells a search covers (geohashCalculateAreasByShapeWGS84)
// ---------------------------------------------------------------------------------------

/** Redis's geohashEstimateStepsByRadius: the coarsest step whose cells still fit the radius. */
export function estimateSteps(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2;
  // Meridians converge towards the poles, so cells there need to be wider.
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

/** The shape's bounding box in degrees (geohashBoundingBox). */
interface Bounds {
  lonMin: number;
  latMin: number;
  lonMax: number;
  latMax: number;
}

/** The bounding box of the running search. */
const bounds: Bounds = { lonMin: 0, latMin: 0, lonMax: 0, latMax: 0 };

/**
 * Redis's geohashBoundingBox into `bounds`: the latitude span from the height, the
 * longitude span from the width at the edge nearer the pole (the northern edge north of
 * the equator, the southern one south of it), where a degree of longitude is shortest.
 */
function boundingBox(shape: GeoShape): void {
  const height = shape.conversion * (shape.isBox ? shape.height / 2 : shape.radius);
  const width = shape.conversion * (shape.isBox ? shape.width / 2 : shape.radius);
  const latDelta = radDeg(height / EARTH_RADIUS_IN_METERS);
  const southern = shape.lat < 0;
  const edgeLat = southern ? shape.lat - latDelta : shape.lat + latDelta;
  const lonDelta = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(edgeLat)));
  bounds.lonMin = shape.lon - lonDelta;
  bounds.latMin = shape.lat - latDelta;
  bounds.lonMax = shape.lon + lonDelta;
  bounds.latMax = shape.lat + latDelta;
}

/** The 9 cells searchCells returns, filled again by every search. */
const searched: GeoCell[] = Array.from({ length: 9 }, () => ({ hi: 0, lo: 0, step: 0 }));

/** The areas of cells searchCells compares with the bounds, reused. */
const northArea: GeoArea = { lonMin: 0, lonMax: 0, latMin: 0, latMax: 0 };
const southArea: GeoArea = { lonMin: 0, lonMax: 0, latMin: 0, latMax: 0 };
const eastArea: GeoArea = { lonMin: 0, lonMax: 0, latMin: 0, latMax: 0 };
const westArea: GeoArea = { lonMin: 0, lonMax: 0, latMin: 0, latMax: 0 };

/**
 * The 9 cells to scan for a shape, in Redis's order: the center's cell, then north, south,
 * east, west, north-east, north-west, south-east, south-west; cells the shape cannot reach
 * are zero cells, skipped by the scan. The list and its cells are reused by the next
 * search.
 */
export function searchCells(shape: GeoShape): GeoCell[] {
  boundingBox(shape);
  const halfWidth = shape.width / 2;
  const halfHeight = shape.height / 2;
  let radiusMeters = shape.isBox ? Math.sqrt(halfWidth * halfWidth + halfHeight * halfHeight) : shape.radius;
  radiusMeters *= shape.conversion;
  let steps = estimateSteps(radiusMeters, shape.lat);
  const cells = searched;
  cellsAround(cells, shape, steps);
  // Near an edge of the center cell the estimated step may leave part of the shape out of
  // the 9 cells: then Redis goes one step coarser. None of these four is a zero cell yet.
  areaInto(cells[NORTH]!, northArea);
  areaInto(cells[SOUTH]!, southArea);
  areaInto(cells[EAST]!, eastArea);
  areaInto(cells[WEST]!, westArea);
  const tooSmall =
    northArea.latMax < bounds.latMax || southArea.latMin > bounds.latMin || eastArea.lonMax < bounds.lonMax || westArea.lonMin > bounds.lonMin;
  if (steps > 1 && tooSmall) {
    steps--;
    cellsAround(cells, shape, steps);
  }
  if (steps >= 2) excludeUnreachable(cells);
  return cells;
}

/** The center's cell at `step` and its 8 neighbours into `cells`, in the scan order. */
function cellsAround(cells: GeoCell[], shape: GeoShape, step: number): void {
  const center = cells[0]!;
  encodeCell(center, shape.lon, shape.lat, step);
  neighbourInto(cells[NORTH]!, center, 0, 1);
  neighbourInto(cells[SOUTH]!, center, 0, -1);
  neighbourInto(cells[EAST]!, center, 1, 0);
  neighbourInto(cells[WEST]!, center, -1, 0);
  neighbourInto(cells[NORTH_EAST]!, center, 1, 1);
  neighbourInto(cells[NORTH_WEST]!, center, -1, 1);
  neighbourInto(cells[SOUTH_EAST]!, center, 1, -1);
  neighbourInto(cells[SOUTH_WEST]!, center, -1, -1);
}

/** Zeroes the neighbours on the sides where the center cell already reaches past the bounds. */
function excludeUnreachable(cells: GeoCell[]): void {
  const area = northArea;
  areaInto(cells[0]!, area);
  if (area.latMin < bounds.latMin) zeroCells(cells, SOUTH, SOUTH_WEST, SOUTH_EAST);
  if (area.latMax > bounds.latMax) zeroCells(cells, NORTH, NORTH_EAST, NORTH_WEST);
  if (area.lonMin < bounds.lonMin) zeroCells(cells, WEST, SOUTH_WEST, NORTH_WEST);
  if (area.lonMax > bounds.lonMax) zeroCells(cells, EAST, SOUTH_EAST, NORTH_EAST);
}

/** Where each neighbour is in the list searchCells returns (the center is at 0). */
const NORTH = 1;
const SOUTH = 2;
const EAST = 3;
const WEST = 4;
const NORTH_EAST = 5;
const NORTH_WEST = 6;
const SOUTH_EAST = 7;
const SOUTH_WEST = 8;

function zeroCells(cells: GeoCell[], a: number, b: number, c: number): void {
  zeroCell(cells[a]!);
  zeroCell(cells[b]!);
  zeroCell(cells[c]!);
}

function zeroCell(cell: GeoCell): void {
  cell.hi = 0;
  cell.lo = 0;
  cell.step = 0;
}

/**
 * Redis's scoresOfGeoHashBox: the lowest score of the points inside a cell, its bits
 * shifted to 52 (and cut to 64 bits, as the uint64 shift does).
 */
export function cellScoreMin(cell: GeoCell): number {
  return shiftedScore(cell.hi, cell.lo, 52 - cell.step * 2);
}

/** The score just past the points inside a cell: the next cell's bits, shifted alike. */
export function cellScoreMax(cell: GeoCell): number {
  const lo = cell.lo + 1;
  const hi = lo >= TWO_POW_32 ? (cell.hi + 1) >>> 0 : cell.hi;
  return shiftedScore(hi, lo >>> 0, 52 - cell.step * 2);
}

/** (hi, lo) << shift modulo 2^64 (shift below 64), as a double rounded to nearest. */
function shiftedScore(hi: number, lo: number, shift: number): number {
  if (shift >= 32) return ((lo << (shift - 32)) >>> 0) * TWO_POW_32;
  if (shift === 0) return hi * TWO_POW_32 + lo;
  const shiftedHi = ((hi << shift) | (lo >>> (32 - shift))) >>> 0;
  return shiftedHi * TWO_POW_32 + ((lo << shift) >>> 0);
}

/** Redis's scoresOfGeoHashBox: the scores [min, max) of the points inside a cell. */
export function cellScoreRange(cell: GeoCell): [number, number] {
  return [cellScoreMin(cell), cellScoreMax(cell)];
}
