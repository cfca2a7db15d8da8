// The cluster bus codec: round trips of every message type, the checks that refuse malformed
// messages, the framer over arbitrary chunking, and the wire format against a real Redis 7.0
// cluster node, both as the node that sends MEET and as the one that receives it.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "bun";
import {
  BUS_HEADER_BYTES,
  BusFramer,
  BusType,
  GOSSIP_ENTRY_BYTES,
  MsgFlag0,
  PingExtType,
  SLOT_BITMAP_BYTES,
  blankHeader,
  decodeMessage,
  emptySlotBitmap,
  encodeMessage,
  setSlotBit,
  slotBit,
  type BusHeader,
  type BusMessage,
  type PingMessage,
} from "../../src/cluster/bus-message.ts";
import { ClusterHealth, NodeFlag } from "../../src/cluster/state.ts";
import { RespConn, freePort, rng, startRedis, type ServerProcess } from "../oracle/harness.ts";

const HEX = "0123456789abcdef";

function randomName(random: () => number = Math.random): string {
  let name = "";
  for (let i = 0; i < 40; i++) name += HEX[Math.floor(random() * 16)];
  return name;
}

function bytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "latin1"));
}

function slotsOf(bitmap: Uint8Array): number[] {
  const slots: number[] = [];
  for (let s = 0; s < SLOT_BITMAP_BYTES * 8; s++) if (slotBit(bitmap, s)) slots.push(s);
  return slots;
}

function bitmapWith(...slots: number[]): Uint8Array {
  const bitmap = emptySlotBitmap();
  for (const s of slots) setSlotBit(bitmap, s);
  return bitmap;
}

/** A header with every field away from zero, so that a misplaced field shows. */
function busyHeader(random: () => number): BusHeader {
  return {
    currentEpoch: 0xfedcba9876543210n,
    configEpoch: 7n,
    offset: 123456789012345n,
    sender: randomName(random),
    myslots: bitmapWith(0, 7, 8, 5000, 16383),
    slaveof: randomName(random),
    myip: "2001:db8:85a3:0:0:8a2e:370:7334",
    port: 6379,
    pport: 6380,
    cport: 16379,
    flags: NodeFlag.Replica | NodeFlag.Myself | NodeFlag.NoFailover,
    state: ClusterHealth.Fail,
    mflags: MsgFlag0.PAUSED,
  };
}

/** One message of every type this codec knows, plus one of a type it does not. */
function everyMessage(): BusMessage[] {
  const random = rng(9);
  const header = busyHeader(random);
  const gossip = [0, 1].map((i) => ({
    nodename: randomName(random),
    pingSentSec: 1700000000 + i,
    pongReceivedSec: 0xfffffff0 + i,
    ip: `10.0.0.${i + 1}`,
    port: 7000 + i,
    cport: 17000 + i,
    flags: NodeFlag.Master | (i === 1 ? NodeFlag.PFail : 0),
    pport: i,
  }));
  const extData = new Uint8Array(16).fill(0xab);
  return [
    { ...header, type: BusType.PING, mflags: header.mflags | MsgFlag0.EXT_DATA, gossip, hostname: "node-1.example", otherExtensions: [{ type: 1, data: extData }] },
    { ...header, type: BusType.PONG, gossip: [], hostname: null, otherExtensions: [] },
    { ...header, type: BusType.MEET, slaveof: null, gossip: gossip.slice(1), hostname: null, otherExtensions: [] },
    { ...header, type: BusType.FAIL, nodename: randomName(random) },
    { ...header, type: BusType.PUBLISH, channel: bytes("news"), message: bytes("hello\0world") },
    { ...header, type: BusType.PUBLISHSHARD, channel: bytes("{s}x"), message: new Uint8Array(0) },
    { ...header, type: BusType.FAILOVER_AUTH_REQUEST, mflags: MsgFlag0.FORCEACK },
    { ...header, type: BusType.FAILOVER_AUTH_ACK },
    { ...header, type: BusType.MFSTART },
    { ...header, type: BusType.UPDATE, nodeConfigEpoch: 42n, nodename: randomName(random), slots: bitmapWith(1, 2, 3) },
    { ...header, type: BusType.MODULE, moduleId: bytes("modid123"), moduleType: 200, payload: bytes("payload") },
    { ...header, type: BusType.UNKNOWN, wireType: 77, body: bytes("future") },
  ];
}

function decodeOk(buf: Uint8Array): BusMessage {
  const result = decodeMessage(buf);
  if (!result.ok) throw new Error(`decode failed: ${result.reason}`);
  return result.message;
}

function decodeReason(buf: Uint8Array): string {
  const result = decodeMessage(buf);
  if (result.ok) throw new Error("decode accepted a malformed message");
  return result.reason;
}

function setU16(buf: Uint8Array, at: number, n: number): void {
  new DataView(buf.buffer, buf.byteOffset).setUint16(at, n);
}

function setU32(buf: Uint8Array, at: number, n: number): void {
  new DataView(buf.buffer, buf.byteOffset).setUint32(at, n);
}

/** `buf` grown or cut to `len` bytes, with totlen saying so. */
function resized(buf: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(len);
  out.set(buf.subarray(0, Math.min(len, buf.length)));
  setU32(out, 4, len);
  return out;
}

describe("encode and decode", () => {
  test("every message type round-trips", () => {
    for (const msg of everyMessage()) {
      const wire = encodeMessage(msg);
      expect(decodeOk(wire)).toEqual(msg);
      expect(encodeMessage(decodeOk(wire))).toEqual(wire);
    }
  });

  test("lengths are Redis's: header, gossip entries, padded extensions, fixed bodies", () => {
    const [ping, pong, meet, fail, publish, , authRequest, , , update, module] = everyMessage();
    // The hostname takes 14 bytes + NUL padded to 16, after an 8-byte extension header.
    expect(encodeMessage(ping!).length).toBe(BUS_HEADER_BYTES + 2 * GOSSIP_ENTRY_BYTES + 24 + 24);
    expect(encodeMessage(pong!).length).toBe(2256);
    expect(encodeMessage(meet!).length).toBe(2256 + 104);
    expect(encodeMessage(fail!).length).toBe(2296);
    expect(encodeMessage(publish!).length).toBe(2256 + 8 + 4 + 11);
    expect(encodeMessage(authRequest!).length).toBe(2256);
    expect(encodeMessage(update!).length).toBe(4352);
    expect(encodeMessage(module!).length).toBe(2256 + 13 + 7);
  });

  test("fields sit at Redis's offsets, big-endian", () => {
    const msg = everyMessage()[0] as PingMessage;
    const wire = encodeMessage(msg);
    const view = new DataView(wire.buffer);
    expect(Buffer.from(wire.subarray(0, 4)).toString("latin1")).toBe("RCmb");
    expect(view.getUint32(4)).toBe(wire.length);
    expect(view.getUint16(8)).toBe(1);
    expect(view.getUint16(10)).toBe(6379);
    expect(view.getUint16(12)).toBe(BusType.PING);
    expect(view.getUint16(14)).toBe(2);
    expect(view.getBigUint64(16)).toBe(0xfedcba9876543210n);
    expect(Buffer.from(wire.subarray(40, 80)).toString("latin1")).toBe(msg.sender);
    expect(wire[80]).toBe(0b10000001); // slots 0 and 7
    expect(wire[81]).toBe(0b00000001); // slot 8
    expect(Buffer.from(wire.subarray(2128, 2168)).toString("latin1")).toBe(msg.slaveof!);
    expect(view.getUint16(2214)).toBe(2); // extensions
    expect(view.getUint16(2246)).toBe(6380);
    expect(view.getUint16(2248)).toBe(16379);
    expect(view.getUint16(2250)).toBe(NodeFlag.Replica | NodeFlag.Myself | NodeFlag.NoFailover);
    expect(wire[2252]).toBe(ClusterHealth.Fail);
    expect(wire[2253]).toBe(MsgFlag0.PAUSED | MsgFlag0.EXT_DATA);
    const hostnameAt = BUS_HEADER_BYTES + 2 * GOSSIP_ENTRY_BYTES;
    expect(view.getUint32(hostnameAt)).toBe(24);
    expect(view.getUint16(hostnameAt + 4)).toBe(PingExtType.HOSTNAME);
    expect(view.getUint16(BUS_HEADER_BYTES + 98)).toBe(NodeFlag.Master); // first gossip entry's flags
  });

  test("a master's slaveof is 40 NUL bytes; EXT_DATA follows the extensions", () => {
    const msg: PingMessage = { ...blankHeader(randomName()), type: BusType.PING, mflags: MsgFlag0.EXT_DATA, gossip: [], hostname: null, otherExtensions: [] };
    const wire = encodeMessage(msg);
    expect(wire.subarray(2128, 2168).every((b) => b === 0)).toBe(true);
    expect(wire[2253]).toBe(0);
    expect((decodeOk(wire) as PingMessage).slaveof).toBeNull();
  });

  test("the encoder refuses what cannot be sent", () => {
    const header = blankHeader(randomName());
    expect(() => encodeMessage({ ...header, sender: "short", type: BusType.MFSTART })).toThrow(RangeError);
    expect(() => encodeMessage({ ...header, myslots: new Uint8Array(10), type: BusType.MFSTART })).toThrow(RangeError);
    expect(() => encodeMessage({ ...header, port: 70000, type: BusType.MFSTART })).toThrow(RangeError);
    expect(() => encodeMessage({ ...header, myip: "x".repeat(46), type: BusType.MFSTART })).toThrow(RangeError);
    expect(() => encodeMessage({ ...header, type: BusType.PING, gossip: [], hostname: "a\0b", otherExtensions: [] })).toThrow(RangeError);
  });
});

describe("decode refuses malformed messages with a reason", () => {
  const [ping, , , fail, publish, , , , , update, module] = everyMessage().map(encodeMessage);

  test("shorter than the prefix, bad signature, header too short", () => {
    expect(decodeReason(new Uint8Array(5))).toContain("8-byte prefix");
    const badSignature = fail!.slice();
    badSignature[3] = 0x42; // "RCmB"
    expect(decodeReason(badSignature)).toContain("signature");
    expect(decodeReason(resized(fail!, 100))).toContain("below the 2256-byte header");
  });

  test("totlen disagreeing with the bytes: truncated and oversized", () => {
    expect(decodeReason(fail!.subarray(0, fail!.length - 1))).toContain("says 2296 bytes but the message has 2295");
    const padded = new Uint8Array(fail!.length + 8);
    padded.set(fail!);
    expect(decodeReason(padded)).toContain("but the message has 2304");
  });

  test("per-type lengths: FAIL, UPDATE, PUBLISH, MODULE", () => {
    expect(decodeReason(resized(fail!, 2297))).toBe("fail message of 2297 bytes, expected 2296");
    expect(decodeReason(resized(update!, 4351))).toBe("update message of 4351 bytes, expected 4352");
    const publishLong = publish!.slice();
    setU32(publishLong, BUS_HEADER_BYTES, 5); // channel_len 4 -> 5
    expect(decodeReason(publishLong)).toContain("expected");
    expect(decodeReason(resized(publish!, 2260))).toContain("too short");
    expect(decodeReason(resized(module!, 2290))).toContain("module message of 2290 bytes, expected");
  });

  test("bad protocol version", () => {
    const v2 = fail!.slice();
    setU16(v2, 8, 2);
    expect(decodeReason(v2)).toBe("unsupported bus protocol version 2");
  });

  test("gossip count against the length", () => {
    const tooMany = ping!.slice();
    setU16(tooMany, 14, 40);
    expect(decodeReason(tooMany)).toContain("cannot hold its 40 gossip entries");
    const tooFew = ping!.slice();
    setU16(tooFew, 14, 1); // the second entry is then read as an extension header
    expect(decodeReason(tooFew)).toContain("ping message");
    const pong = encodeMessage({ ...blankHeader(randomName()), type: BusType.PONG, gossip: [], hostname: null, otherExtensions: [] });
    setU16(pong, 14, 1);
    expect(decodeReason(pong)).toBe("pong message of 2256 bytes cannot hold its 1 gossip entries");
  });

  test("extensions: padding, overrun, missing flag, hostname without NUL, trailing bytes", () => {
    const extAt = BUS_HEADER_BYTES + 2 * GOSSIP_ENTRY_BYTES;
    const unpadded = ping!.slice();
    setU32(unpadded, extAt, 20);
    expect(decodeReason(unpadded)).toContain("without proper padding (20 bytes)");
    const overrun = ping!.slice();
    setU32(overrun, extAt, 4096);
    expect(decodeReason(overrun)).toContain("beyond its length");
    const empty = ping!.slice();
    setU32(empty, extAt, 0);
    expect(decodeReason(empty)).toContain("invalid length 0");
    const unflagged = ping!.slice();
    unflagged[2253] = MsgFlag0.PAUSED;
    expect(decodeReason(unflagged)).toContain("without the EXT_DATA flag");
    const noNul = ping!.slice();
    noNul.fill(0x61, extAt + 8, extAt + 24);
    expect(decodeReason(noNul)).toContain("without its NUL");
    const oneExtension = ping!.slice();
    setU16(oneExtension, 2214, 1); // the second extension becomes trailing bytes
    expect(decodeReason(oneExtension)).toContain("expected");
  });
});

describe("BusFramer", () => {
  const messages = everyMessage().map(encodeMessage);
  const stream = Buffer.concat(messages);

  function collect(framer: BusFramer, chunks: Uint8Array[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const chunk of chunks) {
      const failure = framer.feed(chunk, (m) => out.push(m.slice()));
      if (failure !== null) throw new Error(failure);
    }
    return out;
  }

  test("a stream fed byte by byte", () => {
    const chunks = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
    const framer = new BusFramer();
    expect(collect(framer, chunks)).toEqual(messages);
    expect(framer.bufferedBytes).toBe(0);
  });

  test("several messages in one chunk are handed on as views of it", () => {
    const chunk = new Uint8Array(stream);
    const seen: Uint8Array[] = [];
    expect(new BusFramer().feed(chunk, (m) => seen.push(m))).toBeNull();
    expect(seen).toEqual(messages);
    for (const m of seen) expect(m.buffer).toBe(chunk.buffer);
  });

  test("random cuts, including inside the 8-byte prefix", () => {
    const random = rng(20);
    for (let round = 0; round < 50; round++) {
      const chunks: Uint8Array[] = [];
      for (let pos = 0; pos < stream.length; ) {
        const len = 1 + Math.floor(random() * (random() < 0.3 ? 9 : 6000));
        chunks.push(stream.subarray(pos, pos + len));
        pos += len;
      }
      expect(collect(new BusFramer(), chunks)).toEqual(messages);
    }
  });

  test("a bad signature or length poisons the framer at once", () => {
    const framer = new BusFramer();
    const seen: Uint8Array[] = [];
    const garbage = Buffer.concat([messages[3]!, bytes("GET / HTTP/1.1\r\n")]);
    expect(framer.feed(garbage, (m) => seen.push(m))).toContain("signature");
    expect(seen).toEqual([messages[3]!]);
    expect(framer.feed(messages[3]!, (m) => seen.push(m))).toContain("signature");
    expect(seen.length).toBe(1);

    const short = new Uint8Array(messages[3]!.subarray(0, 8));
    setU32(short, 4, 16);
    expect(new BusFramer().feed(short, () => {})).toContain("below the 2256-byte header");

    const limited = new BusFramer(3000);
    expect(limited.feed(messages[3]!, () => {})).toBeNull();
    expect(limited.feed(messages[9]!.subarray(0, 6), () => {})).toBeNull();
    expect(limited.feed(messages[9]!.subarray(6, 12), () => {})).toBe("length 4352 is above the 3000-byte limit");
  });

  test("a lying length costs only the bytes that arrived", () => {
    const framer = new BusFramer();
    const prefix = new Uint8Array(4096);
    prefix.set(messages[3]!);
    setU32(prefix, 4, 500 * 1024 * 1024);
    expect(framer.feed(prefix, () => {})).toBeNull();
    expect(framer.bufferedBytes).toBe(4096);
  });
});

// ---------------------------------------------------------------------------------------
// Against a real Redis 7.0 cluster node
// ---------------------------------------------------------------------------------------

/** A redis-server in cluster mode, with its nodes.conf in a directory of its own. */
class ClusterRedis {
  private constructor(
    readonly server: ServerProcess,
    readonly busPort: number,
    private readonly dir: string,
    readonly conn: RespConn,
  ) {}

  static async start(extraArgs: string[] = []): Promise<ClusterRedis> {
    const dir = mkdtempSync(join(tmpdir(), "redbun-bus-"));
    const busPort = freePort();
    const args = ["--cluster-enabled", "yes", "--cluster-port", String(busPort), "--dir", dir];
    const server = await startRedis([...args, "--cluster-config-file", join(dir, "nodes.conf"), ...extraArgs]);
    return new ClusterRedis(server, busPort, dir, await RespConn.connect(server.port));
  }

  async call(...args: string[]): Promise<string> {
    return this.conn.call(...args);
  }

  /** A connection to the bus port, as a node that wants to talk to this one. */
  async connectBus(): Promise<{ inbox: Inbox; socket: Socket<undefined> }> {
    const inbox = new Inbox();
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port: this.busPort,
      socket: { data: (_s, chunk) => inbox.receive(chunk) },
    });
    return { inbox, socket };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.conn.close();
    await this.server.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Decoded messages arriving on one bus connection, awaited one at a time. */
class Inbox {
  readonly framer = new BusFramer();
  private readonly queue: { raw: Uint8Array; message: BusMessage }[] = [];
  private waiter: (() => void) | null = null;
  failure: string | null = null;

  /** The socket's data callback. Messages are copied: the chunk is not ours to keep. */
  receive(chunk: Uint8Array): void {
    this.failure ??= this.framer.feed(chunk, (m) => {
      const raw = m.slice();
      this.queue.push({ raw, message: decodeOk(raw) });
    });
    this.waiter?.();
  }

  async next(timeoutMs = 3000): Promise<{ raw: Uint8Array; message: BusMessage }> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.failure !== null) throw new Error(this.failure);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no bus message in time");
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, left);
      });
    }
    return this.queue.shift()!;
  }

  /** The next message of `type`, passing over the others (Redis's periodic PINGs). */
  async nextOf<T extends BusMessage["type"]>(type: T, timeoutMs = 3000): Promise<BusMessage & { type: T }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { message } = await this.next(Math.max(1, deadline - Date.now()));
      if (message.type === type) return message as BusMessage & { type: T };
    }
  }
}

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** The MEET of a master with no slots, named `name`, listening on port and cport. */
function meetFrom(name: string, port: number, cport: number): PingMessage {
  const header = { ...blankHeader(name), port, cport, flags: NodeFlag.Master | NodeFlag.Myself };
  return { ...header, type: BusType.MEET, gossip: [], hostname: null, otherExtensions: [] };
}

function nodesLine(nodes: string, name: string): string | null {
  const body = nodes.slice(nodes.indexOf("\r\n") + 2);
  return body.split("\n").find((line) => line.startsWith(name + " ")) ?? null;
}

describe("interop with redis-server 7.0", () => {
  test("Redis answers our MEET with a PONG describing itself", async () => {
    await using redis = await ClusterRedis.start(["--cluster-announce-hostname", "redis-7.example"]);
    expect(await redis.call("CLUSTER", "ADDSLOTS", "0", "1", "5000")).toBe("+OK\r\n");
    const myid = (await redis.call("CLUSTER", "MYID")).split("\r\n")[1]!;

    const { inbox, socket } = await redis.connectBus();
    try {
      const ourName = randomName();
      const ourPort = freePort();
      const ourBusPort = freePort();
      socket.write(encodeMessage(meetFrom(ourName, ourPort, ourBusPort)));

      const { raw, message: pong } = await inbox.next();
      if (pong.type !== BusType.PONG) throw new Error(`expected a PONG, got type ${pong.type}`);
      expect(pong.sender).toBe(myid);
      expect(slotsOf(pong.myslots)).toEqual([0, 1, 5000]);
      expect(pong.flags).toBe(NodeFlag.Master | NodeFlag.Myself);
      expect(pong.port).toBe(redis.server.port);
      expect(pong.cport).toBe(redis.busPort);
      expect(pong.pport).toBe(0);
      expect(pong.slaveof).toBeNull();
      expect(pong.myip).toBe("");
      expect(pong.state).toBe(ClusterHealth.Fail); // most slots are unassigned
      expect(pong.mflags).toBe(MsgFlag0.EXT_DATA);
      expect(pong.hostname).toBe("redis-7.example");
      expect(pong.otherExtensions).toEqual([]);
      expect(pong.gossip).toEqual([]);
      expect(pong.currentEpoch).toBe(0n);
      expect(raw.length).toBe(BUS_HEADER_BYTES + 8 + 16);
      // Re-encoding what Redis sent gives Redis's bytes back.
      expect(encodeMessage(pong)).toEqual(raw);

      // Redis took our MEET's ports: it now shakes hands with 127.0.0.1:ourPort@ourBusPort.
      const nodes = await redis.call("CLUSTER", "NODES");
      expect(nodes).toContain(` 127.0.0.1:${ourPort}@${ourBusPort} handshake `);
    } finally {
      socket.end();
    }
  });

  test("Redis MEETs us, takes our PONG, then our PING: slots, hostname, UPDATE, PUBLISH", async () => {
    await using redis = await ClusterRedis.start();
    const myid = (await redis.call("CLUSTER", "MYID")).split("\r\n")[1]!;
    expect(await redis.call("CLUSTER", "ADDSLOTS", "100")).toBe("+OK\r\n");
    expect(await redis.call("CLUSTER", "BUMPEPOCH")).toStartWith("+BUMPED");
    const ourName = randomName();
    const ourPort = freePort();
    const ourHeader: BusHeader = { ...blankHeader(ourName), port: ourPort, flags: NodeFlag.Master | NodeFlag.Myself };
    const inbox = new Inbox();
    let link: Socket<undefined> | null = null;
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (s) => {
          link = s;
        },
        data: (_s, chunk) => inbox.receive(chunk),
      },
    });
    try {
      ourHeader.cport = listener.port;
      expect(await redis.call("CLUSTER", "MEET", "127.0.0.1", String(ourPort), String(listener.port))).toBe("+OK\r\n");

      const { raw, message: meet } = await inbox.next();
      if (meet.type !== BusType.MEET) throw new Error(`expected a MEET, got type ${meet.type}`);
      expect(meet.sender).toBe(myid);
      expect(meet.flags).toBe(NodeFlag.Master | NodeFlag.Myself);
      expect(meet.port).toBe(redis.server.port);
      expect(meet.cport).toBe(redis.busPort);
      expect(meet.currentEpoch).toBe(1n);
      expect(meet.configEpoch).toBe(1n);
      expect(slotsOf(meet.myslots)).toEqual([100]);
      expect(meet.hostname).toBeNull();
      expect(meet.mflags).toBe(0);
      expect(raw.length).toBe(BUS_HEADER_BYTES);
      expect(encodeMessage(meet)).toEqual(raw);

      const pong: PingMessage = { ...ourHeader, type: BusType.PONG, gossip: [], hostname: "redbun-node.test", otherExtensions: [] };
      link!.write(encodeMessage(pong));
      const handshaken = await until("our node in CLUSTER NODES", async () =>
        nodesLine(await redis.call("CLUSTER", "NODES"), ourName),
      );
      expect(handshaken).toStartWith(`${ourName} 127.0.0.1:${ourPort}@${listener.port} master - `);

      // Now that Redis knows us by name, a PING of ours is processed in full: Redis answers
      // PONG, gives us the unowned slot 6000 we claim, records our hostname, and tells us
      // with an UPDATE that slot 100 is its own under a newer configEpoch than ours.
      const ping: PingMessage = { ...pong, type: BusType.PING, myslots: bitmapWith(100, 6000) };
      link!.write(encodeMessage(ping));
      expect((await inbox.nextOf(BusType.PONG)).sender).toBe(myid);
      const update = await inbox.nextOf(BusType.UPDATE);
      expect(update.nodename).toBe(myid);
      expect(update.nodeConfigEpoch).toBe(1n);
      expect(slotsOf(update.slots)).toEqual([100]);
      const known = await until("our slot and hostname in CLUSTER NODES", async () => {
        const line = nodesLine(await redis.call("CLUSTER", "NODES"), ourName);
        return line !== null && line.trimEnd().endsWith(" 6000") ? line : null;
      });
      expect(known).toStartWith(`${ourName} 127.0.0.1:${ourPort}@${listener.port},redbun-node.test master - `);

      // A PUBLISH is broadcast to every node past its handshake, us included.
      expect(await redis.call("PUBLISH", "news", "hi\0there")).toBe(":0\r\n");
      const publish = await inbox.nextOf(BusType.PUBLISH);
      expect(Buffer.from(publish.channel).toString("latin1")).toBe("news");
      expect(Buffer.from(publish.message).toString("latin1")).toBe("hi\0there");
      expect(inbox.failure).toBeNull();
    } finally {
      listener.stop(true);
    }
  });
  test("a replica's PONG: slaveof, its master's slots, and a gossip entry about the master", async () => {
    await using replica = await ClusterRedis.start();
    await using master = await ClusterRedis.start();
    const replicaId = (await replica.call("CLUSTER", "MYID")).split("\r\n")[1]!;
    const masterId = (await master.call("CLUSTER", "MYID")).split("\r\n")[1]!;
    expect(await master.call("CLUSTER", "ADDSLOTS", "10", "11")).toBe("+OK\r\n");
    expect(await replica.call("CLUSTER", "MEET", "127.0.0.1", String(master.server.port), String(master.busPort))).toBe("+OK\r\n");
    await until("the replica to know the master's slots", async () => {
      const line = nodesLine(await replica.call("CLUSTER", "NODES"), masterId);
      return line !== null && line.includes(" master - ") && line.trimEnd().endsWith(" 10-11") ? line : null;
    });
    expect(await replica.call("CLUSTER", "REPLICATE", masterId)).toBe("+OK\r\n");

    const { inbox, socket } = await replica.connectBus();
    try {
      const ping = meetFrom(randomName(), freePort(), freePort());
      // Redis gossips about one random node out of three (itself, the master, our handshake
      // node), and only the master qualifies: ask until a PONG carries it.
      const { raw, message: pong } = await until("a PONG gossiping about the master", async () => {
        socket.write(encodeMessage(ping));
        ping.type = BusType.PING;
        const answer = await inbox.next();
        return answer.message.type === BusType.PONG && answer.message.gossip.length > 0 ? answer : null;
      });
      if (pong.type !== BusType.PONG) throw new Error(`expected a PONG, got type ${pong.type}`);
      expect(pong.sender).toBe(replicaId);
      expect(pong.flags).toBe(NodeFlag.Replica | NodeFlag.Myself);
      expect(pong.slaveof).toBe(masterId);
      expect(slotsOf(pong.myslots)).toEqual([10, 11]);
      expect(pong.gossip.length).toBe(1);
      const entry = pong.gossip[0]!;
      expect(entry).toMatchObject({
        nodename: masterId,
        ip: "127.0.0.1",
        port: master.server.port,
        cport: master.busPort,
        // A master with a replica is a target for replica migration.
        flags: NodeFlag.Master | NodeFlag.MigrateTo,
        pingSentSec: 0,
        pport: 0,
      });
      const nowSec = Math.floor(Date.now() / 1000);
      expect(Math.abs(entry.pongReceivedSec - nowSec)).toBeLessThan(30);
      expect(raw.length).toBe(BUS_HEADER_BYTES + GOSSIP_ENTRY_BYTES);
      expect(encodeMessage(pong)).toEqual(raw);
    } finally {
      socket.end();
    }
  });
});
