// Hash slots (Redis Cluster's key space partitioning): a key belongs to slot
// CRC16(key) mod 16384, where CRC16 is the XMODEM variant (polynomial 0x1021, initial value
// 0, no reflection, no final xor), and only the part of the key inside its first {...} is
// hashed when that part is not empty, so that related keys can be kept together.
//
// Everything here works on argument bytes in place: the slot of a command's key is computed
// on the dispatch path of every command in cluster mode, so it must not allocate.

/** Number of hash slots in a Redis Cluster. */
export const CLUSTER_SLOTS = 16384;
/** Bytes of a slot bitmap (a bit per slot), as nodes keep it and the bus sends it. */
export const SLOT_BITMAP_BYTES = CLUSTER_SLOTS / 8;

/** Whether `slot` is set in a bitmap: slot s is bit (s & 7) of byte s >> 3, low bit first. */
export function slotBit(bitmap: Uint8Array, slot: number): boolean {
  return (bitmap[slot >> 3]! & (1 << (slot & 7))) !== 0;
}

/** Sets `slot` in a bitmap. */
export function setSlotBit(bitmap: Uint8Array, slot: number): void {
  bitmap[slot >> 3]! |= 1 << (slot & 7);
}

/** Clears `slot` in a bitmap. */
export function clearSlotBit(bitmap: Uint8Array, slot: number): void {
  bitmap[slot >> 3]! &= ~(1 << (slot & 7));
}

/** 16-bit CRC table for polynomial 0x1021, built once when the module loads. */
const CRC16_TABLE = buildCrc16Table(0x1021);

function buildCrc16Table(polynomial: number): Uint16Array {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    // Shift the byte through the top of a 16-bit register, one bit at a time (MSB first).
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ polynomial : crc << 1;
    table[byte] = crc & 0xffff;
  }
  return table;
}

/** CRC16-XMODEM of buf[start, start+len): "123456789" gives 0x31C3. */
export function crc16(buf: Uint8Array, start: number, len: number): number {
  let crc = 0;
  const end = start + len;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >>> 8) ^ buf[i]!) & 0xff]!;
  return crc;
}

const OPEN_BRACE = 0x7b; // '{'
const CLOSE_BRACE = 0x7d; // '}'

/**
 * The hash slot of the key buf[start, start+len), as Redis's keyHashSlot computes it: when
 * the key has a '{' followed later by a '}', and at least one byte lies between the first
 * '{' and the first '}' after it, only those bytes are hashed; otherwise the whole key is.
 */
export function keyHashSlot(buf: Uint8Array, start: number, len: number): number {
  const end = start + len;
  let open = start;
  while (open < end && buf[open] !== OPEN_BRACE) open++;
  if (open === end) return crc16(buf, start, len) & (CLUSTER_SLOTS - 1);
  let close = open + 1;
  while (close < end && buf[close] !== CLOSE_BRACE) close++;
  // No '}' after the '{', or "{}" with nothing inside: the whole key is hashed.
  if (close === end || close === open + 1) return crc16(buf, start, len) & (CLUSTER_SLOTS - 1);
  return crc16(buf, open + 1, close - open - 1) & (CLUSTER_SLOTS - 1);
}
