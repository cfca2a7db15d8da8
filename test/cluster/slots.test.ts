// Hash slots: our CRC16 and keyHashSlot against known vectors and against a real
// redis-server's CLUSTER KEYSLOT, for hash-tag corner cases and many random binary keys.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { encodeCommand, rng } from "../oracle/harness.ts";
import { decodeReply } from "../oracle/resp.ts";
import { CLUSTER_SLOTS, crc16, keyHashSlot } from "../../src/cluster/slots.ts";
import { type ClusterNode, startClusterNode } from "./redis-cluster.ts";

const bytes = (s: string): Uint8Array => Buffer.from(s, "latin1");
const slotOf = (key: Uint8Array): number => keyHashSlot(key, 0, key.length);

describe("CRC16 (XMODEM)", () => {
  test("check values", () => {
    expect(crc16(bytes("123456789"), 0, 9)).toBe(0x31c3);
    expect(crc16(bytes(""), 0, 0)).toBe(0);
    expect(crc16(bytes("A"), 0, 1)).toBe(0x58e5);
    expect(crc16(new Uint8Array([0xff, 0x00, 0x80]), 0, 3)).toBe(crc16(new Uint8Array([9, 0xff, 0x00, 0x80, 9]), 1, 3));
  });

  test("only the given range is read", () => {
    const buf = bytes("xx123456789yy");
    expect(crc16(buf, 2, 9)).toBe(0x31c3);
  });
});

describe("keyHashSlot without a server", () => {
  test("documented slots", () => {
    expect(slotOf(bytes("foo"))).toBe(12182);
    expect(slotOf(bytes("{user1000}.following"))).toBe(3443);
    expect(slotOf(bytes("{user1000}.followers"))).toBe(3443);
  });

  test("a non-empty tag hashes like the tag alone", () => {
    const random = rng(7);
    for (let n = 0; n < 500; n++) {
      const tag = Array.from({ length: 1 + Math.floor(random() * 8) }, () => String.fromCharCode(Math.floor(random() * 256)))
        .join("")
        .replace(/[{}]/g, "x");
      expect(slotOf(bytes(`pre{${tag}}post{z}`))).toBe(slotOf(bytes(tag)));
    }
  });

  test("slots are in range and the key may sit anywhere in a buffer", () => {
    const key = bytes("a{bc}d");
    const framed = bytes("$$$a{bc}d$$$");
    expect(keyHashSlot(framed, 3, key.length)).toBe(slotOf(key));
    // A brace outside the range must not be taken for the key's own.
    expect(keyHashSlot(bytes("{k}x"), 3, 1)).toBe(slotOf(bytes("x")));
    expect(keyHashSlot(bytes("{k}"), 0, 2)).toBe(slotOf(bytes("{k")));
    for (let i = 0; i < 1000; i++) {
      const slot = slotOf(bytes(`key:${i}`));
      expect(slot >= 0 && slot < CLUSTER_SLOTS).toBe(true);
    }
  });
});

describe("keyHashSlot against CLUSTER KEYSLOT", () => {
  let node: ClusterNode;
  beforeAll(async () => {
    node = await startClusterNode();
  });
  afterAll(async () => {
    await node.stop();
  });

  /** The real server's slots for the keys, asked in one pipeline. */
  async function redisSlots(keys: Uint8Array[]): Promise<number[]> {
    node.conn.write(Buffer.concat(keys.map((k) => encodeCommand(["CLUSTER", "KEYSLOT", k]))));
    const replies = await node.conn.readReplies(keys.length);
    const slots: number[] = [];
    for (let pos = 0; pos < replies.length; ) {
      const end = replies.indexOf("\r\n", pos);
      slots.push(decodeReply(replies.slice(pos, end + 2)) as number);
      pos = end + 2;
    }
    return slots;
  }

  async function expectSameSlots(keys: Uint8Array[]): Promise<void> {
    const want = await redisSlots(keys);
    const got = keys.map(slotOf);
    const label = (i: number): string => JSON.stringify(Buffer.from(keys[i]!).toString("latin1"));
    expect(keys.map((_, i) => `${label(i)} ${got[i]}`)).toEqual(keys.map((_, i) => `${label(i)} ${want[i]}`));
  }

  test("hash-tag corner cases", async () => {
    const cases = [
      "", "{", "}", "{}", "}{", "{}{}", "{a}", "a{b}c", "{}{a}", "{{a}}", "{a}}", "a{}b{c}", "}{a}",
      "{a", "a}", "{ }", "{\x00}", "\x00{\xff}", "{user1000}.following", "foo{}", "{}foo", "{{}}",
      "{}}", "x{{", "{a{b}c}", "abc{", "{{", "}}", "a{b", "123456789", "{123456789}", "\xff\xfe{\x7b}",
    ];
    await expectSameSlots(cases.map(bytes));
  });

  test("random binary keys", async () => {
    const random = rng(Number(process.env.SEED ?? 20261126));
    const keys: Uint8Array[] = [];
    for (let n = 0; n < 3000; n++) {
      const key = new Uint8Array(Math.floor(random() * 24));
      for (let i = 0; i < key.length; i++) {
        // Braces often, so that tags of every shape turn up; any byte otherwise.
        const r = random();
        key[i] = r < 0.12 ? 0x7b : r < 0.24 ? 0x7d : Math.floor(random() * 256);
      }
      keys.push(key);
    }
    await expectSameSlots(keys);
  });
});
