// Geohashes as Redis 7.0 computes them (geohash.c, geohash_helper.c): a point is a cell of
// a 2^26 x 2^26 grid over longitude -180..180 and latitude -85.05112878..85.05112878 (the
// Web Mercator limits), its 52-bit score the cell's latitude and longitude indexes with
// their bits interleaved (latitude in the even bits). A radius or box search covers its
// shape with a cell of a coarser grid and that cell's 8 neighbours, each of which is one
// contiguous range of scores.
//
// Every floating point step is the one Redis's x86-64 build performs, in the same order,
// so that coordinates, distances and the cells searched come out bit for bit the same.
// Redis's 64-bit integers are held as two unsigned 32-bit halves on the per-point paths
// (encoding an added point, decoding a scanned one) and as bigints on the per-search path.

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
const TWO_POW_63 = 9223372036854775808;

/** A cell of the grid with 2^step cells per axis: Redis's GeoHashBits. */
export interface GeoCell {
  bits: bigint;
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
  return Math.trunc(v) % TWO_POW_32 >>> 0;
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

/** One bound of a cell on one axis: Redis's `min + (index * 1.0 / (1ull << step)) * scale`. */
function cellBound(min: number, index: number, cells: number, scale: number): number {
  return min + (index / cells) * scale;
}

/**
 * Redis's decodeGeohash (geohashDecodeToLongLatWGS84 at step 26): the center of the
 * score's cell, clamped to the limits, into `decoded`. Any score decodes, even one ZADD
 * put there; C's uint32 arithmetic wraps `index + 1` as here.
 */
export function decodeScore(score: number): void {
  scoreToHalves(score);
  deinterleave();
  const cells = 2 ** GEO_STEP_MAX;
  const latMin = cellBound(GEO_LAT_MIN, indexes.lat, cells, LAT_SCALE);
  const latMax = cellBound(GEO_LAT_MIN, (indexes.lat + 1) >>> 0, cells, LAT_SCALE);
  const lonMin = cellBound(GEO_LONG_MIN, indexes.lon, cells, LONG_SCALE);
  const lonMax = cellBound(GEO_LONG_MIN, (indexes.lon + 1) >>> 0, cells, LONG_SCALE);
  let lon = (lonMin + lonMax) / 2;
  if (lon > GEO_LONG_MAX) lon = GEO_LONG_MAX;
  if (lon < GEO_LONG_MIN) lon = GEO_LONG_MIN;
  let lat = (latMin + latMax) / 2;
  if (lat > GEO_LAT_MAX) lat = GEO_LAT_MAX;
  if (lat < GEO_LAT_MIN) lat = GEO_LAT_MIN;
  decoded.lon = lon;
  decoded.lat = lat;
}

// ---------------------------------------------------------------------------------------
// Cells and their neighbours (per search, on bigints)
// ---------------------------------------------------------------------------------------

const MASK_64 = (1n << 64n) - 1n;
const EVEN_BITS = 0x5555555555555555n;
const ODD_BITS = 0xaaaaaaaaaaaaaaaan;

/** Redis's geohashEncode with the WGS84 ranges at a coarser step; the empty cell when outside. */
function encodeCell(lon: number, lat: number, step: number): GeoCell {
  if (!encodeHalves(lon, lat, step, GEO_LONG_MIN, GEO_LONG_MAX, GEO_LAT_MIN, GEO_LAT_MAX)) return { bits: 0n, step };
  return { bits: (BigInt(halves.hi) << 32n) | BigInt(halves.lo), step };
}

/** Redis's HASHISZERO: a cell ruled out of the search. */
export function isZeroCell(cell: GeoCell): boolean {
  return cell.bits === 0n && cell.step === 0;
}

/** Redis's geohashDecode with the WGS84 ranges; null for the zero cell. */
export function cellArea(cell: GeoCell): GeoArea | null {
  if (isZeroCell(cell)) return null;
  halves.hi = Number((cell.bits >> 32n) & 0xffffffffn);
  halves.lo = Number(cell.bits & 0xffffffffn);
  deinterleave();
  const cells = 2 ** cell.step;
  return {
    latMin: cellBound(GEO_LAT_MIN, indexes.lat, cells, LAT_SCALE),
    latMax: cellBound(GEO_LAT_MIN, (indexes.lat + 1) >>> 0, cells, LAT_SCALE),
    lonMin: cellBound(GEO_LONG_MIN, indexes.lon, cells, LONG_SCALE),
    lonMax: cellBound(GEO_LONG_MIN, (indexes.lon + 1) >>> 0, cells, LONG_SCALE),
  };
}

/**
 * Redis's geohash_move_x (odd bits, longitude) or geohash_move_y (even bits, latitude):
 * the cell `d` steps east/north (d > 0) or west/south (d < 0), wrapping around the grid.
 */
function moveCell(cell: GeoCell, d: number, alongLongitude: boolean): GeoCell {
  if (d === 0) return cell;
  const shift = BigInt(64 - cell.step * 2);
  const moved = alongLongitude ? ODD_BITS : EVEN_BITS;
  const kept = alongLongitude ? EVEN_BITS : ODD_BITS;
  let v = cell.bits & moved;
  const other = cell.bits & kept;
  const zz = kept >> shift;
  if (d > 0) v = (v + zz + 1n) & MASK_64;
  else v = ((v | zz) - (zz + 1n)) & MASK_64;
  v &= moved >> shift;
  return { bits: v | other, step: cell.step };
}

function neighbour(cell: GeoCell, dx: number, dy: number): GeoCell {
  return moveCell(moveCell(cell, dx, true), dy, false);
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

/**
 * Redis's geohashBoundingBox: the latitude span from the height, the longitude span from
 * the width at the edge nearer the pole (the northern edge north of the equator, the
 * southern one south of it), where a degree of longitude is shortest.
 */
function boundingBox(shape: GeoShape): Bounds {
  const height = shape.conversion * (shape.isBox ? shape.height / 2 : shape.radius);
  const width = shape.conversion * (shape.isBox ? shape.width / 2 : shape.radius);
  const latDelta = radDeg(height / EARTH_RADIUS_IN_METERS);
  const southern = shape.lat < 0;
  const edgeLat = southern ? shape.lat - latDelta : shape.lat + latDelta;
  const lonDelta = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(edgeLat)));
  return { lonMin: shape.lon - lonDelta, latMin: shape.lat - latDelta, lonMax: shape.lon + lonDelta, latMax: shape.lat + latDelta };
}

const ZERO_CELL: GeoCell = { bits: 0n, step: 0 };

/**
 * The 9 cells to scan for a shape, in Redis's order: the center's cell, then north, south,
 * east, west, north-east, north-west, south-east, south-west; cells the shape cannot reach
 * are zero cells, skipped by the scan.
 */
export function searchCells(shape: GeoShape): GeoCell[] {
  const bounds = boundingBox(shape);
  const halfWidth = shape.width / 2;
  const halfHeight = shape.height / 2;
  let radiusMeters = shape.isBox ? Math.sqrt(halfWidth * halfWidth + halfHeight * halfHeight) : shape.radius;
  radiusMeters *= shape.conversion;
  let steps = estimateSteps(radiusMeters, shape.lat);
  let cells = cellsAround(shape, steps);
  // Near an edge of the center cell the estimated step may leave part of the shape out of
  // the 9 cells: then Redis goes one step coarser.
  const north = cellArea(cells[NORTH]!)!;
  const south = cellArea(cells[SOUTH]!)!;
  const east = cellArea(cells[EAST]!)!;
  const west = cellArea(cells[WEST]!)!;
  const tooSmall = north.latMax < bounds.latMax || south.latMin > bounds.latMin || east.lonMax < bounds.lonMax || west.lonMin > bounds.lonMin;
  if (steps > 1 && tooSmall) {
    steps--;
    cells = cellsAround(shape, steps);
  }
  if (steps >= 2) excludeUnreachable(cells, bounds);
  return cells;
}

/** The center's cell at `step` and its 8 neighbours, in the scan order. */
function cellsAround(shape: GeoShape, step: number): GeoCell[] {
  const center = encodeCell(shape.lon, shape.lat, step);
  return [
    center,
    neighbour(center, 0, 1),
    neighbour(center, 0, -1),
    neighbour(center, 1, 0),
    neighbour(center, -1, 0),
    neighbour(center, 1, 1),
    neighbour(center, -1, 1),
    neighbour(center, 1, -1),
    neighbour(center, -1, -1),
  ];
}

/** Zeroes the neighbours on the sides where the center cell already reaches past the bounds. */
function excludeUnreachable(cells: GeoCell[], bounds: Bounds): void {
  const area = cellArea(cells[0]!)!;
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
  cells[a] = ZERO_CELL;
  cells[b] = ZERO_CELL;
  cells[c] = ZERO_CELL;
}

/** Redis's scoresOfGeoHashBox: the scores [min, max) of the points inside a cell. */
export function cellScoreRange(cell: GeoCell): [number, number] {
  const shift = BigInt(52 - cell.step * 2);
  return [Number((cell.bits << shift) & MASK_64), Number(((cell.bits + 1n) << shift) & MASK_64)];
}
