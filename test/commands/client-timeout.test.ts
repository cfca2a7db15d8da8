// `timeout`: idle clients are closed, except those waiting for the server by design
// (blocked, monitoring, subscribed), on redbun as on the real redis-server 7.0.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { Oracle, type RespConn, encodeCommand } from "../oracle/harness.ts";
import { onBoth } from "../oracle/sides.ts";

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start();
});
// The oracle's own connections go idle too; the servers stop with the file.
afterAll(() => o.stop());

/** Whether the server closed the connection (a PING then gets no reply). */
async function closed(conn: RespConn): Promise<boolean> {
  if (conn.isClosed) return true;
  try {
    await conn.readUntilClosed(200);
    return true;
  } catch {
    return false;
  }
}

test("idle clients are closed after `timeout` seconds; blocked, monitoring and subscribed ones stay", async () => {
  await o.same("CONFIG", "SET", "timeout", "1");
  const [want, got] = await onBoth(o, async (side) => {
    const idle = await side.connect();
    const inMulti = await side.connect();
    const blocked = await side.connect();
    const monitor = await side.connect();
    const subscriber = await side.connect();
    const busy = await side.connect();
    await idle.call("PING");
    await inMulti.call("MULTI");
    blocked.write(encodeCommand(["BLPOP", "never", "0"]));
    await monitor.call("MONITOR");
    await subscriber.call("SUBSCRIBE", "ch");
    // One client keeps talking: it is never idle long enough.
    for (let i = 0; i < 14; i++) {
      await busy.call("PING");
      await Bun.sleep(250);
    }
    return {
      idle: await closed(idle),
      inMulti: await closed(inMulti),
      blocked: await closed(blocked),
      monitor: await closed(monitor),
      subscriber: await closed(subscriber),
      busy: busy.isClosed,
    };
  });
  expect(got).toEqual(want);
  expect(want).toEqual({ idle: true, inMulti: true, blocked: false, monitor: false, subscriber: false, busy: false });
}, 20000);
