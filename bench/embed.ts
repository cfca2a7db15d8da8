// Embedding: how long a test waits for a server, in process against a spawned redis-server.
//
//   bun bench/embed.ts [--runs 50]
//
// - first PONG: from startServer() to the PONG of a first PING on a new connection;
// - per test: startServer(), one PING, close(): what a suite pays per test that starts
//   its own server;
// against what redis-memory-server does: find a free port, spawn Debian's redis-server on
// it, wait for "Ready to accept connections" on its stdout, PING; then stop it (SIGTERM)
// and wait for the process to exit. Medians of --runs runs, and their ratios; the first
// run of each and the import of redbun's modules are shown apart.
import { parseArgs } from "node:util";
import { freePort, sendCommand } from "./lib/servers.ts";
import { fmtFixed, fmtRatio, median } from "./lib/table.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "50" } } });
const runs = Number(values.runs);

// What a test file pays once: loading redbun's modules.
const importStartedMs = performance.now();
const { startServer } = await import("../src/index.ts");
const importMs = performance.now() - importStartedMs;

interface Timing {
  firstPongMs: number;
  perTestMs: number;
}

async function embeddedRun(): Promise<Timing> {
  const startedMs = performance.now();
  const server = await startServer();
  const pong = await sendCommand(server.port, ["PING"]);
  const firstPongMs = performance.now() - startedMs;
  if (pong !== "PONG") throw new Error(`embedded server answered ${String(pong)}`);
  await server.close();
  return { firstPongMs, perTestMs: performance.now() - startedMs };
}

/** Resolves once the stream has carried `text`. */
async function waitForText(stream: ReadableStream<Uint8Array>, text: string): Promise<void> {
  const decoder = new TextDecoder();
  let seen = "";
  for await (const chunk of stream) {
    seen += decoder.decode(chunk);
    if (seen.includes(text)) return;
  }
  throw new Error(`redis-server ended before printing "${text}": ${seen}`);
}

async function spawnedRun(): Promise<Timing> {
  const startedMs = performance.now();
  const port = freePort();
  const proc = Bun.spawn(["redis-server", "--port", String(port), "--save", "", "--appendonly", "no"], { stdout: "pipe", stderr: "inherit" });
  await waitForText(proc.stdout, "Ready to accept connections");
  const pong = await sendCommand(port, ["PING"]);
  const firstPongMs = performance.now() - startedMs;
  if (pong !== "PONG") throw new Error(`redis-server answered ${String(pong)}`);
  proc.kill("SIGTERM");
  await proc.exited;
  return { firstPongMs, perTestMs: performance.now() - startedMs };
}

async function measure(run: () => Promise<Timing>): Promise<{ firstPongMs: number; perTestMs: number; coldMs: number }> {
  // The first run pays for loading modules (in process) or the binary (spawned); reported apart.
  const cold = await run();
  const timings: Timing[] = [];
  for (let i = 0; i < runs; i++) timings.push(await run());
  return {
    coldMs: cold.firstPongMs,
    firstPongMs: median(timings.map((t) => t.firstPongMs)),
    perTestMs: median(timings.map((t) => t.perTestMs)),
  };
}

const embedded = await measure(embeddedRun);
const spawned = await measure(spawnedRun);
const row = (name: string, m: typeof embedded) =>
  `${name.padEnd(26)} ${fmtFixed(m.coldMs, 2).padStart(12)} ${fmtFixed(m.firstPongMs, 2).padStart(16)} ${fmtFixed(m.perTestMs, 2).padStart(14)}`;
console.log(`medians of ${runs} runs, in ms; importing redbun took ${fmtFixed(importMs, 2)} ms, once per process`);
console.log(`${"".padEnd(26)} ${"first run".padStart(12)} ${"start->PONG".padStart(16)} ${"per test".padStart(14)}`);
console.log(row("redbun startServer()", embedded));
console.log(row("spawned redis-server", spawned));
console.log(
  `redis-server / redbun: start->PONG ${fmtRatio(spawned.firstPongMs / embedded.firstPongMs)}, per test ${fmtRatio(spawned.perTestMs / embedded.perTestMs)}`,
);
console.log(`target start under 50 ms: ${embedded.firstPongMs < 50 ? "met" : "missed"} (${fmtFixed(embedded.firstPongMs, 2)} ms)`);
