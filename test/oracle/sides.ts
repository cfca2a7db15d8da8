// Multi-client scenarios run on both servers at once: each side opens its own connections,
// the same scenario drives them, and what the clients saw is compared. Used where one
// connection is not enough: CLIENT PAUSE, blocking commands, anything with waiting clients.

import { expect } from "bun:test";
import { type Oracle, RespConn } from "./harness.ts";

/** One server of the pair, with the connections a scenario opened on it (closed afterwards). */
export class Side {
  private readonly opened: RespConn[] = [];
  constructor(
    readonly name: string,
    readonly port: number,
  ) {}

  async connect(): Promise<RespConn> {
    const conn = await RespConn.connect(this.port);
    this.opened.push(conn);
    return conn;
  }

  closeAll(): void {
    for (const conn of this.opened) if (!conn.isClosed) conn.close();
  }
}

/** Run a scenario on both servers at once; returns what it returned on [redis, redbun]. */
export async function onBoth<T>(o: Oracle, scenario: (side: Side) => Promise<T>): Promise<[T, T]> {
  const sides = [new Side("redis", o.redis.port), new Side("redbun", o.redbun.port)];
  // Both run to the end before either's connections close, so that one side failing
  // does not leave the other running into the next test.
  const results = await Promise.allSettled(sides.map(scenario));
  for (const side of sides) side.closeAll();
  for (const r of results) if (r.status === "rejected") throw r.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value) as [T, T];
}

/** Run a scenario on both servers and expect it to have seen the same things on each. */
export async function sameOnBoth<T>(o: Oracle, scenario: (side: Side) => Promise<T>): Promise<T> {
  const [want, got] = await onBoth(o, scenario);
  expect(got).toEqual(want);
  return want;
}

/** Wait until the server shows `n` clients blocked (INFO clients blocked_clients). */
export async function blockedClients(conn: RespConn, n: number): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const m = (await conn.call("INFO", "clients")).match(/blocked_clients:(\d+)/);
    if (m !== null && Number(m[1]) === n) return;
    await Bun.sleep(2);
  }
  throw new Error(`never saw ${n} blocked clients`);
}
