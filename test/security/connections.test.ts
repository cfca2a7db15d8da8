// Connection churn: rounds of 1,000 concurrent connections to redbun, opened and closed in
// every way a client can leave (at once, after a reply, in the middle of a command, with
// replies it never read, after a pipeline, before the server says anything). Afterwards
// the server must be back where it started: connected_clients and its open file
// descriptors at their baseline, its memory (RSS and used_memory) within stated bounds.
//
// SEED=n replays a run's choice of behaviours.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket } from "bun";
import { RespConn, encodeCommand, rng, startRedbun, type ServerProcess } from "../oracle/harness.ts";
import { type Random, seedFromEnv } from "../oracle/fuzz.ts";
import { infoField, openFds, rssMb, waitUntil } from "./helpers.ts";

const SEED = seedFromEnv();
const CONNECTIONS = 1000;
const ROUNDS = 8;
/**
 * Memory allowed while the rounds run, and growth over the baseline once every client is
 * gone. The peak is mostly the replies of the clients that never read, and read buffers
 * the garbage collector has not taken back yet: it measured 190-330 MB, once 495 MB on a
 * loaded CI machine, so the bound leaves room for the collector's timing.
 */
const PEAK_RSS_LIMIT_MB = 640;
const RSS_GROWTH_LIMIT_MB = 50;
const USED_MEMORY_GROWTH_LIMIT_BYTES = 2 * 1024 * 1024;

let server: ServerProcess;
beforeAll(async () => {
  server = await startRedbun();
});
afterAll(() => server?.stop());

const PING = encodeCommand(["PING"]);
const SET_HALF = encodeCommand(["SET", "churn:k", "v".repeat(1000)]).subarray(0, 500);

/** What one connection does before it goes. */
const enum Behaviour {
  CloseAtOnce,
  PingThenClose,
  CloseMidCommand,
  PipelineNeverRead,
  WaitForRoundEnd,
}

function chooseBehaviour(r: Random): Behaviour {
  const x = r();
  if (x < 0.2) return Behaviour.CloseAtOnce;
  if (x < 0.45) return Behaviour.PingThenClose;
  if (x < 0.65) return Behaviour.CloseMidCommand;
  if (x < 0.8) return Behaviour.PipelineNeverRead;
  return Behaviour.WaitForRoundEnd;
}

/** A light client: counts the bytes it receives and notices its close. */
interface Churner {
  socket: Socket<undefined>;
  received: number;
  closed: Promise<void>;
}

async function connect(port: number): Promise<Churner> {
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const churner = { received: 0, closed } as Churner;
  churner.socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data: (_s, d) => {
        churner.received += d.length;
      },
      close: () => markClosed(),
      error: () => markClosed(),
    },
  });
  return churner;
}

/** One round: all connections open, then each does its thing and goes; resolves when all are closed. */
async function churnRound(port: number, r: Random, pipeline: Uint8Array): Promise<void> {
  const conns: Churner[] = [];
  // Connections open in waves of 200, so that the listen backlog is never overrun.
  while (conns.length < CONNECTIONS) conns.push(...(await Promise.all(Array.from({ length: 200 }, () => connect(port)))));
  const waiting: Churner[] = [];
  for (const c of conns) {
    switch (chooseBehaviour(r)) {
      case Behaviour.CloseAtOnce:
        c.socket.end();
        break;
      case Behaviour.PingThenClose:
        c.socket.write(PING);
        c.socket.end();
        break;
      case Behaviour.CloseMidCommand:
        c.socket.write(SET_HALF);
        c.socket.end();
        break;
      case Behaviour.PipelineNeverRead:
        c.socket.write(pipeline);
        c.socket.end();
        break;
      case Behaviour.WaitForRoundEnd:
        c.socket.write(PING);
        waiting.push(c);
        break;
    }
  }
  await Bun.sleep(50);
  for (const c of waiting) c.socket.end();
  await Promise.all(conns.map((c) => c.closed));
}

test("rounds of 1,000 connections leave no client, descriptor or memory behind", async () => {
  const pid = server.proc.pid;
  const admin = await RespConn.connect(server.port);
  // A value whose replies fill socket buffers, for the clients that never read.
  await admin.call("SET", "churn:big", "b".repeat(64 * 1024));
  const pipeline = new Uint8Array(Buffer.concat(Array.from({ length: 20 }, () => encodeCommand(["GET", "churn:big"]))));
  const clientsNow = async () => infoField(await admin.call("INFO", "clients"), "connected_clients");
  const usedMemory = async () => infoField(await admin.call("INFO", "memory"), "used_memory");
  // A first round warms up whatever the server allocates once (buffers, JIT code).
  const r = rng(SEED);
  await churnRound(server.port, r, pipeline);
  expect(await waitUntil(clientsNow, (n) => n === 1)).toBe(1);
  const baseline = { clients: 1, fds: openFds(pid), rssMb: rssMb(pid), usedMemory: await usedMemory() };
  let peakRssMb = baseline.rssMb;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      await churnRound(server.port, r, pipeline);
      peakRssMb = Math.max(peakRssMb, rssMb(pid));
      // Every connection of the round came and went, whatever it did.
      expect(await waitUntil(clientsNow, (n) => n === baseline.clients)).toBe(baseline.clients);
    }
  } catch (error) {
    console.error(`connection churn failed with SEED=${SEED}`);
    throw error;
  }
  const clients = await waitUntil(clientsNow, (n) => n === baseline.clients);
  const fds = await waitUntil(() => openFds(pid), (n) => n === baseline.fds);
  // The server collects its garbage once idle (server.ts collectAfterBurst): give it time.
  const deadline = Date.now() + 5000;
  while (rssMb(pid) - baseline.rssMb >= RSS_GROWTH_LIMIT_MB && Date.now() < deadline) await Bun.sleep(100);
  const after = { clients, fds, rssMb: rssMb(pid), usedMemory: await usedMemory() };
  const report = `SEED=${SEED}: baseline ${JSON.stringify(baseline)}, after ${JSON.stringify(after)}, peak RSS ${peakRssMb.toFixed(1)} MB`;
  console.log(report);
  expect(server.proc.exitCode, report).toBeNull();
  expect(after.clients, report).toBe(baseline.clients);
  expect(after.fds, report).toBe(baseline.fds);
  expect(peakRssMb, report).toBeLessThan(PEAK_RSS_LIMIT_MB);
  expect(after.rssMb - baseline.rssMb, report).toBeLessThan(RSS_GROWTH_LIMIT_MB);
  expect(after.usedMemory - baseline.usedMemory, report).toBeLessThan(USED_MEMORY_GROWTH_LIMIT_BYTES);
  expect(await admin.call("PING")).toBe("+PONG\r\n");
  admin.close();
}, 30000);
