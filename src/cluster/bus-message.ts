// The cluster bus messages, in Redis 7.0's exact wire format (cluster.h `clusterMsg`), so
// that redbun nodes talk to each other and to real Redis 7.0 cluster nodes over the bus
// port (client port + 10000, or `cluster-port`).
//
// A message is a fixed 2256-byte header followed by a body whose shape depends on the type:
//
//   offset  size  field                  offset  size  field
//        0     4  "RCmb"                   2128    40  slaveof (40 NUL bytes: none)
//        4     4  totlen                   2168    46  myip (NUL-terminated, "" = use socket)
//        8     2  ver (1)                  2214     2  extensions (PING/PONG/MEET)
//       10     2  port (client port)       2216    30  unused
//       12     2  type                     2246     2  pport (plaintext port under TLS)
//       14     2  count (gossip entries)   2248     2  cport (bus port)
//       16     8  currentEpoch             2250     2  flags (CLUSTER_NODE_*)
//       24     8  configEpoch              2252     1  state (0 ok, 1 fail)
//       32     8  offset (repl offset)     2253     3  mflags (only byte 0 is used)
//       40    40  sender name              2256     -  body
//       80  2048  myslots bitmap
//
// Every integer is big-endian (network order), except MODULE's module id, which Redis copies
// in host order ("already endian adjusted") and is therefore kept here as 8 opaque bytes.
//
// The 64-bit fields (epochs, replication offsets) are bigints: they are unsigned on the wire
// and a replication offset is not bounded by 2^53, so the codec neither rounds nor rejects.
//
// Decoded byte fields (myslots, UPDATE slots, PUBLISH channel and message, MODULE payload,
// unknown bodies and extensions) are views of the decoded buffer, not copies: copy what is
// kept past the buffer's life. Names, addresses and hostnames are fresh latin1 strings.

/** The four signature bytes "RCmb" (Redis Cluster message bus), read as one big-endian word. */
const SIGNATURE_WORD = 0x52436d62;
import { CLUSTER_SLOTS, SLOT_BITMAP_BYTES, setSlotBit, slotBit } from "./slots.ts";
import { ClusterHealth } from "./state.ts";

export { SLOT_BITMAP_BYTES, setSlotBit, slotBit };

export const BUS_SIGNATURE = "RCmb";
/** CLUSTER_PROTO_VER: Redis ignores messages of any other version. */
export const BUS_PROTOCOL_VERSION = 1;

/** CLUSTER_NAMELEN: a node name is 40 hex characters, with no terminator. */
export const NODE_NAME_BYTES = 40;
/** NET_IP_STR_LEN: room for an IPv6 address and its NUL. */
export const NET_IP_BYTES = 46;

/** The signature and the total length: what a reader needs before it can frame a message. */
export const BUS_PREFIX_BYTES = 8;
/** sizeof(clusterMsg) - sizeof(union clusterMsgData), CLUSTERMSG_MIN_LEN. */
export const BUS_HEADER_BYTES = 2256;
/** sizeof(clusterMsgDataGossip). */
export const GOSSIP_ENTRY_BYTES = 104;
/** sizeof(clusterMsgPingExt): length (4), type (2), unused (2). */
export const PING_EXT_HEADER_BYTES = 8;
/** sizeof(clusterMsgDataFail). */
export const FAIL_BODY_BYTES = NODE_NAME_BYTES;
/** sizeof(clusterMsgDataUpdate): configEpoch, nodename, slots. */
export const UPDATE_BODY_BYTES = 8 + NODE_NAME_BYTES + SLOT_BITMAP_BYTES;
/** sizeof(clusterMsgDataPublish) - 8: the two lengths before the channel and message bytes. */
export const PUBLISH_FIXED_BYTES = 8;
/** sizeof(clusterMsgModule) - 3: module id, length and type before the payload. */
export const MODULE_FIXED_BYTES = 13;
/**
 * The largest message the framer accepts by default. Redis 7.0 sets no bound of its own (any
 * 32-bit totlen is read); this one leaves room for a PUBLISH whose channel and message are
 * each as long as proto-max-bulk-len's default (512 MB).
 */
export const BUS_MESSAGE_MAX_BYTES = BUS_HEADER_BYTES + PUBLISH_FIXED_BYTES + 2 * 512 * 1024 * 1024;

/** CLUSTERMSG_TYPE_*. UNKNOWN (-1) is never on the wire: it tags a type this codec lacks. */
export const BusType = {
  PING: 0,
  PONG: 1,
  MEET: 2,
  FAIL: 3,
  PUBLISH: 4,
  FAILOVER_AUTH_REQUEST: 5,
  FAILOVER_AUTH_ACK: 6,
  UPDATE: 7,
  MFSTART: 8,
  MODULE: 9,
  PUBLISHSHARD: 10,
  UNKNOWN: -1,
} as const;
/** CLUSTERMSG_TYPE_COUNT: the first type number Redis 7.0 does not know. */
export const BUS_TYPE_COUNT = 11;

/** CLUSTERMSG_FLAG0_*: bits of mflags[0]. */
export const MsgFlag0 = {
  PAUSED: 1,
  FORCEACK: 2,
  EXT_DATA: 4,
} as const;

/** clusterMsgPingtypes: Redis 7.0 knows (and sends) only the hostname extension. */
export const PingExtType = { HOSTNAME: 0 } as const;

/** Field offsets in the header. */
const H = {
  signature: 0,
  totlen: 4,
  version: 8,
  port: 10,
  type: 12,
  count: 14,
  currentEpoch: 16,
  configEpoch: 24,
  offset: 32,
  sender: 40,
  myslots: 80,
  slaveof: 2128,
  myip: 2168,
  extensions: 2214,
  pport: 2246,
  cport: 2248,
  flags: 2250,
  state: 2252,
  mflags: 2253,
} as const;

/** Field offsets in a gossip entry (clusterMsgDataGossip); 102..103 are unused. */
const G = {
  nodename: 0,
  pingSent: 40,
  pongReceived: 44,
  ip: 48,
  port: 94,
  cport: 96,
  flags: 98,
  pport: 100,
} as const;

/** What every message carries about its sender. */
export interface BusHeader {
  currentEpoch: bigint;
  /** The sender's configEpoch, or its master's when the sender is a replica. */
  configEpoch: bigint;
  /** Master replication offset, or the processed offset of a replica. */
  offset: bigint;
  /** The sender's 40-character name. */
  sender: string;
  /** SLOT_BITMAP_BYTES bytes: the slots of the sender, or of its master; see slotBit. */
  myslots: Uint8Array;
  /** The master's name for a replica; null for a master (40 NUL bytes on the wire). */
  slaveof: string | null;
  /** cluster-announce-ip, or "" for "take my address from the socket". */
  myip: string;
  /** Client port (the TLS one when tls-cluster is on). */
  port: number;
  /** Plaintext client port when `port` is TLS, else 0. */
  pport: number;
  /** Cluster bus port. */
  cport: number;
  /** The sender's CLUSTER_NODE_* flags (myself included). */
  flags: number;
  /** ClusterState as the sender sees it. */
  state: number;
  /**
   * mflags[0] (MsgFlag0). The encoder sets or clears EXT_DATA itself, from whether a PING,
   * PONG or MEET carries extensions; the decoder reports the byte as received.
   */
  mflags: number;
}

/** One clusterMsgDataGossip entry: what the sender knows about another node. */
export interface GossipEntry {
  nodename: string;
  /** Unix time in seconds of the sender's last unanswered PING to that node, 0 if none. */
  pingSentSec: number;
  /** Unix time in seconds of the last PONG the sender received from that node. */
  pongReceivedSec: number;
  ip: string;
  port: number;
  cport: number;
  flags: number;
  pport: number;
}

/** A PING extension this codec does not interpret, kept so that it can be relayed or logged. */
export interface PingExtension {
  type: number;
  /** The bytes after the 8-byte extension header, padding included (a multiple of 8). */
  data: Uint8Array;
}

export interface PingMessage extends BusHeader {
  type: typeof BusType.PING | typeof BusType.PONG | typeof BusType.MEET;
  gossip: GossipEntry[];
  /** cluster-announce-hostname (the HOSTNAME extension); null when not sent. */
  hostname: string | null;
  /** Extensions of other types, in wire order after the hostname. */
  otherExtensions: PingExtension[];
}

export interface FailMessage extends BusHeader {
  type: typeof BusType.FAIL;
  /** The node the sender declares failed. */
  nodename: string;
}

export interface PublishMessage extends BusHeader {
  type: typeof BusType.PUBLISH | typeof BusType.PUBLISHSHARD;
  channel: Uint8Array;
  message: Uint8Array;
}

export interface UpdateMessage extends BusHeader {
  type: typeof BusType.UPDATE;
  /** The configEpoch of the node the update is about. */
  nodeConfigEpoch: bigint;
  nodename: string;
  /** SLOT_BITMAP_BYTES bytes: the slots that node serves. */
  slots: Uint8Array;
}

export interface ModuleMessage extends BusHeader {
  type: typeof BusType.MODULE;
  /** 8 bytes in the sending host's byte order: compare them, do not read them as a number. */
  moduleId: Uint8Array;
  /** The module's own message type, 0..255. */
  moduleType: number;
  payload: Uint8Array;
}

/** FAILOVER_AUTH_REQUEST, FAILOVER_AUTH_ACK and MFSTART are a header alone. */
export interface BareMessage extends BusHeader {
  type: typeof BusType.FAILOVER_AUTH_REQUEST | typeof BusType.FAILOVER_AUTH_ACK | typeof BusType.MFSTART;
}

/** A type Redis 7.0 does not know either: it accepts any length and ignores the message. */
export interface UnknownMessage extends BusHeader {
  type: typeof BusType.UNKNOWN;
  /** The type number on the wire (BUS_TYPE_COUNT or more). */
  wireType: number;
  body: Uint8Array;
}

export type BusMessage =
  | PingMessage
  | FailMessage
  | PublishMessage
  | UpdateMessage
  | ModuleMessage
  | BareMessage
  | UnknownMessage;

/**
 * The outcome of decoding. A failure carries the reason, for the log. Redis drops the link
 * only for the framing errors (see BusFramer); a message that fails the per-type checks is
 * logged and skipped, the link kept.
 */
export type DecodeResult = { ok: true; message: BusMessage } | { ok: false; reason: string };

// ---------------------------------------------------------------------------------------
// Slot bitmaps
// ---------------------------------------------------------------------------------------

/** A slot bitmap with no slot set. */
export function emptySlotBitmap(): Uint8Array {
  return new Uint8Array(SLOT_BITMAP_BYTES);
}


// ---------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------

/** A header of an all-zero node: a base for building messages field by field. */
export function blankHeader(sender: string): BusHeader {
  return {
    currentEpoch: 0n,
    configEpoch: 0n,
    offset: 0n,
    sender,
    myslots: emptySlotBitmap(),
    slaveof: null,
    myip: "",
    port: 0,
    pport: 0,
    cport: 0,
    flags: 0,
    state: ClusterHealth.Ok,
    mflags: 0,
  };
}

/**
 * The wire bytes of a message, in a fresh buffer of exactly its length. Throws RangeError on
 * a message that cannot be sent as is (a name not 40 bytes, a bitmap of the wrong size, a
 * field out of range): those are the caller's bugs, not the peer's.
 */
export function encodeMessage(msg: BusMessage): Uint8Array {
  const bodyBytes = bodyLength(msg);
  const totlen = BUS_HEADER_BYTES + bodyBytes;
  if (totlen > 0xffffffff) throw new RangeError(`bus message of ${totlen} bytes exceeds totlen's 32 bits`);
  const buf = new Uint8Array(totlen);
  const view = new DataView(buf.buffer);
  writeHeader(buf, view, msg, totlen);
  writeBody(buf, view, msg);
  return buf;
}

/** Bytes after the header. */
function bodyLength(msg: BusMessage): number {
  switch (msg.type) {
    case BusType.PING:
    case BusType.PONG:
    case BusType.MEET:
      return msg.gossip.length * GOSSIP_ENTRY_BYTES + extensionsLength(msg);
    case BusType.FAIL:
      return FAIL_BODY_BYTES;
    case BusType.PUBLISH:
    case BusType.PUBLISHSHARD:
      return PUBLISH_FIXED_BYTES + msg.channel.length + msg.message.length;
    case BusType.UPDATE:
      return UPDATE_BODY_BYTES;
    case BusType.MODULE:
      return MODULE_FIXED_BYTES + msg.payload.length;
    case BusType.FAILOVER_AUTH_REQUEST:
    case BusType.FAILOVER_AUTH_ACK:
    case BusType.MFSTART:
      return 0;
    case BusType.UNKNOWN:
      return msg.body.length;
  }
}

/** getHostnamePingExtSize: header, hostname, its NUL, padding to 8. */
function hostnameExtensionLength(hostname: string): number {
  return PING_EXT_HEADER_BYTES + align8(hostname.length + 1);
}

function extensionsLength(msg: PingMessage): number {
  let len = msg.hostname ? hostnameExtensionLength(msg.hostname) : 0;
  for (const ext of msg.otherExtensions) len += PING_EXT_HEADER_BYTES + ext.data.length;
  return len;
}

function extensionCount(msg: BusMessage): number {
  if (msg.type !== BusType.PING && msg.type !== BusType.PONG && msg.type !== BusType.MEET) return 0;
  return (msg.hostname ? 1 : 0) + msg.otherExtensions.length;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

function writeHeader(buf: Uint8Array, view: DataView, msg: BusMessage, totlen: number): void {
  const isPing = msg.type === BusType.PING || msg.type === BusType.PONG || msg.type === BusType.MEET;
  const extensions = extensionCount(msg);
  view.setUint32(H.signature, SIGNATURE_WORD);
  view.setUint32(H.totlen, totlen);
  view.setUint16(H.version, BUS_PROTOCOL_VERSION);
  view.setUint16(H.port, checkU16(msg.port, "port"));
  view.setUint16(H.type, msg.type === BusType.UNKNOWN ? checkU16(msg.wireType, "wireType") : msg.type);
  view.setUint16(H.count, isPing ? checkU16((msg as PingMessage).gossip.length, "gossip count") : 0);
  view.setBigUint64(H.currentEpoch, checkU64(msg.currentEpoch, "currentEpoch"));
  view.setBigUint64(H.configEpoch, checkU64(msg.configEpoch, "configEpoch"));
  view.setBigUint64(H.offset, checkU64(msg.offset, "offset"));
  writeName(buf, H.sender, msg.sender, "sender");
  writeBitmap(buf, H.myslots, msg.myslots, "myslots");
  if (msg.slaveof !== null) writeName(buf, H.slaveof, msg.slaveof, "slaveof");
  writeIp(buf, H.myip, msg.myip, "myip");
  view.setUint16(H.extensions, checkU16(extensions, "extension count"));
  view.setUint16(H.pport, checkU16(msg.pport, "pport"));
  view.setUint16(H.cport, checkU16(msg.cport, "cport"));
  view.setUint16(H.flags, checkU16(msg.flags, "flags"));
  buf[H.state] = checkU8(msg.state, "state");
  const mflags = checkU8(msg.mflags, "mflags") & ~MsgFlag0.EXT_DATA;
  buf[H.mflags] = extensions > 0 ? mflags | MsgFlag0.EXT_DATA : mflags;
}

function writeBody(buf: Uint8Array, view: DataView, msg: BusMessage): void {
  const at = BUS_HEADER_BYTES;
  switch (msg.type) {
    case BusType.PING:
    case BusType.PONG:
    case BusType.MEET:
      writePingBody(buf, view, msg);
      return;
    case BusType.FAIL:
      writeName(buf, at, msg.nodename, "nodename");
      return;
    case BusType.PUBLISH:
    case BusType.PUBLISHSHARD:
      view.setUint32(at, msg.channel.length);
      view.setUint32(at + 4, msg.message.length);
      buf.set(msg.channel, at + PUBLISH_FIXED_BYTES);
      buf.set(msg.message, at + PUBLISH_FIXED_BYTES + msg.channel.length);
      return;
    case BusType.UPDATE:
      view.setBigUint64(at, checkU64(msg.nodeConfigEpoch, "nodeConfigEpoch"));
      writeName(buf, at + 8, msg.nodename, "nodename");
      writeBitmap(buf, at + 8 + NODE_NAME_BYTES, msg.slots, "slots");
      return;
    case BusType.MODULE:
      if (msg.moduleId.length !== 8) throw new RangeError("moduleId must be 8 bytes");
      buf.set(msg.moduleId, at);
      view.setUint32(at + 8, msg.payload.length);
      buf[at + 12] = checkU8(msg.moduleType, "moduleType");
      buf.set(msg.payload, at + MODULE_FIXED_BYTES);
      return;
    case BusType.FAILOVER_AUTH_REQUEST:
    case BusType.FAILOVER_AUTH_ACK:
    case BusType.MFSTART:
      return;
    case BusType.UNKNOWN:
      buf.set(msg.body, at);
      return;
  }
}

/** Gossip entries, then the extensions: the hostname first, as Redis writes it. */
function writePingBody(buf: Uint8Array, view: DataView, msg: PingMessage): void {
  let at = BUS_HEADER_BYTES;
  for (const entry of msg.gossip) {
    writeGossip(buf, view, at, entry);
    at += GOSSIP_ENTRY_BYTES;
  }
  if (msg.hostname) {
    const len = hostnameExtensionLength(msg.hostname);
    view.setUint32(at, len);
    view.setUint16(at + 4, PingExtType.HOSTNAME);
    writeLatin1(buf, at + PING_EXT_HEADER_BYTES, msg.hostname, "hostname", true);
    at += len;
  }
  for (const ext of msg.otherExtensions) {
    if (ext.data.length % 8 !== 0) throw new RangeError("a ping extension's data must be padded to 8 bytes");
    view.setUint32(at, PING_EXT_HEADER_BYTES + ext.data.length);
    view.setUint16(at + 4, checkU16(ext.type, "extension type"));
    buf.set(ext.data, at + PING_EXT_HEADER_BYTES);
    at += PING_EXT_HEADER_BYTES + ext.data.length;
  }
}

function writeGossip(buf: Uint8Array, view: DataView, at: number, entry: GossipEntry): void {
  writeName(buf, at + G.nodename, entry.nodename, "gossip nodename");
  view.setUint32(at + G.pingSent, checkU32(entry.pingSentSec, "pingSentSec"));
  view.setUint32(at + G.pongReceived, checkU32(entry.pongReceivedSec, "pongReceivedSec"));
  writeIp(buf, at + G.ip, entry.ip, "gossip ip");
  view.setUint16(at + G.port, checkU16(entry.port, "gossip port"));
  view.setUint16(at + G.cport, checkU16(entry.cport, "gossip cport"));
  view.setUint16(at + G.flags, checkU16(entry.flags, "gossip flags"));
  view.setUint16(at + G.pport, checkU16(entry.pport, "gossip pport"));
}

function writeName(buf: Uint8Array, at: number, name: string, field: string): void {
  if (name.length !== NODE_NAME_BYTES) throw new RangeError(`${field} must be ${NODE_NAME_BYTES} characters`);
  writeLatin1(buf, at, name, field, false);
}

/** An address leaves room for its NUL, as Redis's strncpy of NET_IP_STR_LEN-1 bytes does. */
function writeIp(buf: Uint8Array, at: number, ip: string, field: string): void {
  if (ip.length >= NET_IP_BYTES) throw new RangeError(`${field} must be under ${NET_IP_BYTES} characters`);
  writeLatin1(buf, at, ip, field, true);
}

/** Writes one byte per character; a C string (noNul) may not hold a NUL of its own. */
function writeLatin1(buf: Uint8Array, at: number, s: string, field: string, noNul: boolean): void {
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code > 0xff || (noNul && code === 0)) throw new RangeError(`${field} holds a character that is not a byte`);
    buf[at + i] = code;
  }
}

function writeBitmap(buf: Uint8Array, at: number, bitmap: Uint8Array, field: string): void {
  if (bitmap.length !== SLOT_BITMAP_BYTES) throw new RangeError(`${field} must be ${SLOT_BITMAP_BYTES} bytes`);
  buf.set(bitmap, at);
}

/** n itself when it is an integer in 0..max: an unsigned field of the wire. */
function checkUint(n: number, max: number, field: string): number {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`${field} out of range: ${n}`);
  return n;
}

function checkU8(n: number, field: string): number {
  return checkUint(n, 0xff, field);
}

function checkU16(n: number, field: string): number {
  return checkUint(n, 0xffff, field);
}

function checkU32(n: number, field: string): number {
  return checkUint(n, 0xffffffff, field);
}

function checkU64(n: bigint, field: string): bigint {
  if (n < 0n || n > 0xffffffffffffffffn) throw new RangeError(`${field} out of range: ${n}`);
  return n;
}

// ---------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------

/**
 * Decodes one whole message (buf holds it exactly, as BusFramer hands it on), checking what
 * Redis 7.0's read handler and clusterProcessPacket check: the signature, totlen against
 * the bytes, the header length, the protocol version, and each type's expected length
 * (gossip count and extension lengths for PING/PONG/MEET). Never throws.
 *
 * It is stricter than Redis where Redis would read past the message: an extension shorter
 * than its own header, an extension length above 16 bits (Redis truncates it), extensions
 * counted without the EXT_DATA flag, and a hostname without its NUL are refused.
 */
export function decodeMessage(buf: Uint8Array): DecodeResult {
  const reason = frameError(buf) ?? versionError(buf);
  if (reason !== null) return { ok: false, reason };
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const wireType = view.getUint16(H.type);
  switch (wireType) {
    case BusType.PING:
    case BusType.PONG:
    case BusType.MEET:
      return decodePing(buf, view, wireType);
    case BusType.FAIL:
      return decodeFixed(buf, view, wireType, FAIL_BODY_BYTES);
    case BusType.PUBLISH:
    case BusType.PUBLISHSHARD:
      return decodePublish(buf, view, wireType);
    case BusType.FAILOVER_AUTH_REQUEST:
    case BusType.FAILOVER_AUTH_ACK:
    case BusType.MFSTART:
      return decodeFixed(buf, view, wireType, 0);
    case BusType.UPDATE:
      return decodeFixed(buf, view, wireType, UPDATE_BODY_BYTES);
    case BusType.MODULE:
      return decodeModule(buf, view);
    default: {
      const body = buf.subarray(BUS_HEADER_BYTES);
      return { ok: true, message: { ...readHeader(buf, view), type: BusType.UNKNOWN, wireType, body } };
    }
  }
}

/** The prefix checks, shared with the framer: signature, then totlen against what arrived. */
function frameError(buf: Uint8Array): string | null {
  if (buf.length < BUS_PREFIX_BYTES) return `message of ${buf.length} bytes is shorter than its 8-byte prefix`;
  const prefixError = checkPrefix(buf, 0, BUS_MESSAGE_MAX_BYTES);
  if (typeof prefixError === "string") return prefixError;
  if (prefixError !== buf.length) return `length field says ${prefixError} bytes but the message has ${buf.length}`;
  return null;
}

function versionError(buf: Uint8Array): string | null {
  const version = (buf[H.version]! << 8) | buf[H.version + 1]!;
  return version === BUS_PROTOCOL_VERSION ? null : `unsupported bus protocol version ${version}`;
}

/**
 * Checks the 8-byte prefix at buf[at..]: the signature, and totlen between the header size
 * (CLUSTERMSG_MIN_LEN, as Redis's read handler requires) and maxBytes. Returns totlen, or
 * the reason the connection carries no cluster bus traffic worth reading.
 */
export function checkPrefix(buf: Uint8Array, at: number, maxBytes: number): number | string {
  const view = new DataView(buf.buffer, buf.byteOffset + at, BUS_PREFIX_BYTES);
  if (view.getUint32(0) !== SIGNATURE_WORD) return "bad signature: not a cluster bus message";
  const totlen = view.getUint32(4);
  if (totlen < BUS_HEADER_BYTES) return `length ${totlen} is below the ${BUS_HEADER_BYTES}-byte header`;
  if (totlen > maxBytes) return `length ${totlen} is above the ${maxBytes}-byte limit`;
  return totlen;
}

function readHeader(buf: Uint8Array, view: DataView): BusHeader {
  return {
    currentEpoch: view.getBigUint64(H.currentEpoch),
    configEpoch: view.getBigUint64(H.configEpoch),
    offset: view.getBigUint64(H.offset),
    sender: readLatin1(buf, H.sender, NODE_NAME_BYTES),
    myslots: buf.subarray(H.myslots, H.myslots + SLOT_BITMAP_BYTES),
    slaveof: isAllZero(buf, H.slaveof, NODE_NAME_BYTES) ? null : readLatin1(buf, H.slaveof, NODE_NAME_BYTES),
    myip: readCString(buf, H.myip, NET_IP_BYTES - 1),
    port: view.getUint16(H.port),
    pport: view.getUint16(H.pport),
    cport: view.getUint16(H.cport),
    flags: view.getUint16(H.flags),
    state: buf[H.state]!,
    mflags: buf[H.mflags]!,
  };
}

/** FAIL, UPDATE and the bare types: a body of one fixed size. */
function decodeFixed(
  buf: Uint8Array,
  view: DataView,
  type: FailMessage["type"] | UpdateMessage["type"] | BareMessage["type"],
  bodyBytes: number,
): DecodeResult {
  const reason = lengthError(buf, type, BUS_HEADER_BYTES + bodyBytes);
  if (reason !== null) return { ok: false, reason };
  const header = readHeader(buf, view);
  const at = BUS_HEADER_BYTES;
  if (type === BusType.FAIL) {
    return { ok: true, message: { ...header, type, nodename: readLatin1(buf, at, NODE_NAME_BYTES) } };
  }
  if (type === BusType.UPDATE) {
    const nodeConfigEpoch = view.getBigUint64(at);
    const nodename = readLatin1(buf, at + 8, NODE_NAME_BYTES);
    const slotsAt = at + 8 + NODE_NAME_BYTES;
    const slots = buf.subarray(slotsAt, slotsAt + SLOT_BITMAP_BYTES);
    return { ok: true, message: { ...header, type, nodeConfigEpoch, nodename, slots } };
  }
  return { ok: true, message: { ...header, type } };
}

function lengthError(buf: Uint8Array, type: number, expectedBytes: number): string | null {
  if (buf.length === expectedBytes) return null;
  return `${typeName(type)} message of ${buf.length} bytes, expected ${expectedBytes}`;
}

function decodePublish(buf: Uint8Array, view: DataView, type: PublishMessage["type"]): DecodeResult {
  const at = BUS_HEADER_BYTES;
  if (buf.length < at + PUBLISH_FIXED_BYTES) {
    return { ok: false, reason: `${typeName(type)} message of ${buf.length} bytes is too short for its lengths` };
  }
  const channelBytes = view.getUint32(at);
  const messageBytes = view.getUint32(at + 4);
  const reason = lengthError(buf, type, at + PUBLISH_FIXED_BYTES + channelBytes + messageBytes);
  if (reason !== null) return { ok: false, reason };
  const channelAt = at + PUBLISH_FIXED_BYTES;
  const channel = buf.subarray(channelAt, channelAt + channelBytes);
  const message = buf.subarray(channelAt + channelBytes, channelAt + channelBytes + messageBytes);
  return { ok: true, message: { ...readHeader(buf, view), type, channel, message } };
}

function decodeModule(buf: Uint8Array, view: DataView): DecodeResult {
  const at = BUS_HEADER_BYTES;
  if (buf.length < at + MODULE_FIXED_BYTES) {
    return { ok: false, reason: `MODULE message of ${buf.length} bytes is too short for its length` };
  }
  const payloadBytes = view.getUint32(at + 8);
  const reason = lengthError(buf, BusType.MODULE, at + MODULE_FIXED_BYTES + payloadBytes);
  if (reason !== null) return { ok: false, reason };
  const moduleId = buf.subarray(at, at + 8);
  const moduleType = buf[at + 12]!;
  const payload = buf.subarray(at + MODULE_FIXED_BYTES, at + MODULE_FIXED_BYTES + payloadBytes);
  return { ok: true, message: { ...readHeader(buf, view), type: BusType.MODULE, moduleId, moduleType, payload } };
}

function decodePing(buf: Uint8Array, view: DataView, type: PingMessage["type"]): DecodeResult {
  const count = view.getUint16(H.count);
  const extensionsAt = BUS_HEADER_BYTES + count * GOSSIP_ENTRY_BYTES;
  const name = typeName(type);
  if (extensionsAt > buf.length) {
    return { ok: false, reason: `${name} message of ${buf.length} bytes cannot hold its ${count} gossip entries` };
  }
  const extensions = decodeExtensions(buf, view, extensionsAt, name);
  if (typeof extensions === "string") return { ok: false, reason: extensions };
  const gossip: GossipEntry[] = new Array(count);
  for (let i = 0; i < count; i++) gossip[i] = readGossip(buf, view, BUS_HEADER_BYTES + i * GOSSIP_ENTRY_BYTES);
  const message: PingMessage = { ...readHeader(buf, view), type, gossip, ...extensions };
  return { ok: true, message };
}

interface DecodedExtensions {
  hostname: string | null;
  otherExtensions: PingExtension[];
}

/** Walks the extensions, which must end exactly where the message does. */
function decodeExtensions(buf: Uint8Array, view: DataView, at: number, name: string): DecodedExtensions | string {
  const out: DecodedExtensions = { hostname: null, otherExtensions: [] };
  let count = view.getUint16(H.extensions);
  if ((buf[H.mflags]! & MsgFlag0.EXT_DATA) === 0) {
    // Redis validates extensions only under EXT_DATA, yet processes `extensions` of them anyway.
    if (count !== 0) return `${name} message counts ${count} extensions without the EXT_DATA flag`;
  }
  for (; count > 0; count--) {
    const ext = readExtension(buf, view, at, name);
    if (typeof ext === "string") return ext;
    if (ext.type === PingExtType.HOSTNAME) {
      const hostname = readHostname(ext.data);
      if (hostname === null) return `${name} message has a hostname extension without its NUL`;
      out.hostname = hostname;
    } else {
      out.otherExtensions.push(ext);
    }
    at += PING_EXT_HEADER_BYTES + ext.data.length;
  }
  if (at !== buf.length) return `${name} message of ${buf.length} bytes, expected ${at}`;
  return out;
}

function readExtension(buf: Uint8Array, view: DataView, at: number, name: string): PingExtension | string {
  if (buf.length - at < PING_EXT_HEADER_BYTES) return `${name} message ends inside an extension header`;
  const len = view.getUint32(at);
  if (len % 8 !== 0) return `${name} message has an extension without proper padding (${len} bytes)`;
  if (len < PING_EXT_HEADER_BYTES || len > 0xffff) return `${name} message has an extension of invalid length ${len}`;
  if (len > buf.length - at) return `${name} message has extension data beyond its length`;
  const type = view.getUint16(at + 4);
  return { type, data: buf.subarray(at + PING_EXT_HEADER_BYTES, at + len) };
}

/** The hostname up to its NUL, or null when the padded data holds none. */
function readHostname(data: Uint8Array): string | null {
  const end = data.indexOf(0);
  return end < 0 ? null : readLatin1(data, 0, end);
}

function readGossip(buf: Uint8Array, view: DataView, at: number): GossipEntry {
  return {
    nodename: readLatin1(buf, at + G.nodename, NODE_NAME_BYTES),
    pingSentSec: view.getUint32(at + G.pingSent),
    pongReceivedSec: view.getUint32(at + G.pongReceived),
    ip: readCString(buf, at + G.ip, NET_IP_BYTES - 1),
    port: view.getUint16(at + G.port),
    cport: view.getUint16(at + G.cport),
    flags: view.getUint16(at + G.flags),
    pport: view.getUint16(at + G.pport),
  };
}

function readLatin1(buf: Uint8Array, at: number, len: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + at, len).toString("latin1");
}

/** A NUL-terminated string of at most maxLen bytes (Redis forces a NUL at the last byte). */
function readCString(buf: Uint8Array, at: number, maxLen: number): string {
  let len = 0;
  while (len < maxLen && buf[at + len] !== 0) len++;
  return readLatin1(buf, at, len);
}

function isAllZero(buf: Uint8Array, at: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (buf[at + i] !== 0) return false;
  return true;
}

/** clusterGetMessageTypeString's names, indexed by type, for the reasons. */
const TYPE_NAMES = [
  "ping",
  "pong",
  "meet",
  "fail",
  "publish",
  "auth-req",
  "auth-ack",
  "update",
  "mfstart",
  "module",
  "publishshard",
];

export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? "unknown";
}

// ---------------------------------------------------------------------------------------
// Framing
// ---------------------------------------------------------------------------------------

/** The first room for a message that spans chunks; it grows as bytes arrive, never ahead. */
const ASSEMBLY_INITIAL_BYTES = 16 * 1024;

/**
 * Cuts a bus connection's byte stream into whole messages, like Redis's clusterReadHandler:
 * the 8-byte prefix first, checked at once (a bad signature or a totlen below the header or
 * above the limit poisons the framer: drop the connection), then the rest of the message.
 *
 * A message lying whole in a chunk is handed on as a view of that chunk; only a message
 * spanning chunks is assembled, in a buffer that grows with the bytes received rather than
 * with what the peer claims, so a lying totlen costs nothing until the bytes arrive.
 */
export class BusFramer {
  private readonly head = new Uint8Array(BUS_PREFIX_BYTES);
  private headUsed = 0;
  /** The message being assembled across chunks, null between messages. */
  private partial: Uint8Array | null = null;
  private partialUsed = 0;
  private partialTotal = 0;
  private failure: string | null = null;

  constructor(private readonly maxMessageBytes: number = BUS_MESSAGE_MAX_BYTES) {}

  /** Bytes held for a message not yet complete. */
  get bufferedBytes(): number {
    return this.headUsed + this.partialUsed;
  }

  /**
   * Feeds one chunk; onMessage receives each complete message, valid only until it returns
   * (it may be a view of `chunk`). Returns null, or the reason the stream is not a cluster
   * bus, after which every call returns that reason again.
   */
  feed(chunk: Uint8Array, onMessage: (message: Uint8Array) => void): string | null {
    if (this.failure !== null) return this.failure;
    let pos = this.resume(chunk, onMessage);
    while (pos >= 0 && pos < chunk.length) {
      const available = chunk.length - pos;
      if (available < BUS_PREFIX_BYTES) {
        this.head.set(chunk.subarray(pos), 0);
        this.headUsed = available;
        return null;
      }
      const totlen = this.prefixLength(chunk, pos);
      if (totlen < 0) break;
      if (available < totlen) {
        this.startPartial(totlen, chunk.subarray(pos));
        return null;
      }
      onMessage(chunk.subarray(pos, pos + totlen));
      pos += totlen;
    }
    return this.failure;
  }

  /** totlen of the prefix at buf[at..], or -1 after recording why the stream is refused. */
  private prefixLength(buf: Uint8Array, at: number): number {
    const checked = checkPrefix(buf, at, this.maxMessageBytes);
    if (typeof checked === "string") {
      this.failure = checked;
      return -1;
    }
    return checked;
  }

  /** Completes the prefix or message left over from earlier chunks; returns where chunk's unread bytes start. */
  private resume(chunk: Uint8Array, onMessage: (message: Uint8Array) => void): number {
    let pos = 0;
    if (this.headUsed > 0) {
      pos = Math.min(BUS_PREFIX_BYTES - this.headUsed, chunk.length);
      this.head.set(chunk.subarray(0, pos), this.headUsed);
      this.headUsed += pos;
      if (this.headUsed < BUS_PREFIX_BYTES) return chunk.length;
      this.headUsed = 0;
      const totlen = this.prefixLength(this.head, 0);
      if (totlen < 0) return -1;
      this.startPartial(totlen, this.head);
    }
    if (this.partial === null) return pos;
    const take = Math.min(this.partialTotal - this.partialUsed, chunk.length - pos);
    this.append(chunk.subarray(pos, pos + take));
    pos += take;
    if (this.partialUsed === this.partialTotal) {
      const message = this.partial.subarray(0, this.partialTotal);
      this.partial = null;
      this.partialUsed = 0;
      onMessage(message);
    }
    return pos;
  }

  private startPartial(totlen: number, first: Uint8Array): void {
    this.partialTotal = totlen;
    this.partial = new Uint8Array(Math.min(totlen, Math.max(ASSEMBLY_INITIAL_BYTES, first.length * 2)));
    this.partialUsed = 0;
    this.append(first);
  }

  private append(bytes: Uint8Array): void {
    let partial = this.partial!;
    const needed = this.partialUsed + bytes.length;
    if (needed > partial.length) {
      const grown = new Uint8Array(Math.min(this.partialTotal, Math.max(needed, partial.length * 2)));
      grown.set(partial.subarray(0, this.partialUsed));
      partial = this.partial = grown;
    }
    partial.set(bytes, this.partialUsed);
    this.partialUsed = needed;
  }
}
