// Active expiry against the real redis-server 7.0: a burst of 1,000,000 keys with short
// TTLs goes away with no client touching them, about as fast as Redis reclaims it, and
// the memory comes back.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { Oracle, type RespConn, type ServerProcess } from "../oracle/harness.ts";

const KEYS = Number(process.env.EXPIRE_BURST_KEYS ?? 1_000_000);
const TTL_MS = 1000;

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start();
});
afterAll(() => o.stop());

/** The burst as one RESP stream: SET burst:<n> v PX TTL_MS. */
function burst(): Uint8Array {
  const parts: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    const key = `burst:${i}`;
    parts.push(`*5\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$1\r\nv\r\n$2\r\nPX\r\n$${String(TTL_MS).length}\r\n${TTL_MS}\r\n`);
  }
  return new Uint8Array(Buffer.from(parts.join(""), "latin1"));
}

/** Load the burst through redis-cli --pipe; resolves when every reply has arrived. */
async function load(server: ServerProcess, payload: Uint8Array): Promise<void> {
  const proc = Bun.spawn(["redis-cli", "-p", String(server.port), "--pipe"], { stdin: payload, stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  expect(out).toContain(`errors: 0, replies: ${KEYS}`);
}

function infoField(info: string, name: string): number {
  const m = info.match(new RegExp(`${name}:([\\d.]+)`));
  return m === null ? 0 : Number(m[1]);
}

/** Seconds from now until the database holds no key, polling INFO; and the used memory then. */
async function reclaimed(conn: RespConn): Promise<{ seconds: number; usedAfter: number }> {
  const t0 = performance.now();
  for (;;) {
    const keyspace = await conn.call("INFO", "keyspace");
    if (!keyspace.includes("db0:")) break;
    if (performance.now() - t0 > 60_000) throw new Error(`keys left after 60 s: ${keyspace}`);
    await Bun.sleep(50);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, usedAfter: infoField(await conn.call("INFO", "memory"), "used_memory") };
}

test(`a burst of ${KEYS} keys with a ${TTL_MS} ms TTL is reclaimed by active expiry about as fast as Redis does`, async () => {
  const payload = burst();
  const results: { seconds: number; usedBefore: number; usedPeak: number; usedAfter: number; expired: number }[] = [];
  for (const [server, conn] of [
    [o.redis, o.r],
    [o.redbun, o.b],
  ] as const) {
    const usedBefore = infoField(await conn.call("INFO", "memory"), "used_memory");
    await load(server, payload);
    const usedPeak = infoField(await conn.call("INFO", "memory"), "used_memory");
    const { seconds, usedAfter } = await reclaimed(conn);
    const expired = infoField(await conn.call("INFO", "stats"), "expired_keys");
    results.push({ seconds, usedBefore, usedPeak, usedAfter, expired });
    await conn.call("CONFIG", "RESETSTAT");
  }
  const [redis, redbun] = results as [(typeof results)[0], (typeof results)[0]];
  console.log(`reclaim after load: redis ${redis.seconds.toFixed(2)} s, redbun ${redbun.seconds.toFixed(2)} s`);
  // Every key went through expiry, none was read.
  expect(redbun.expired).toBe(KEYS);
  expect(redis.expired).toBe(KEYS);
  // Within twice Redis's time, with a second of slack for a noisy machine.
  expect(redbun.seconds).toBeLessThan(redis.seconds * 2 + 1);
  // The memory the burst took comes back (to within a tenth of what it took).
  expect(redbun.usedPeak - redbun.usedBefore).toBeGreaterThan(0);
  expect(redbun.usedAfter - redbun.usedBefore).toBeLessThan((redbun.usedPeak - redbun.usedBefore) / 10);
}, 120_000);
