// redbun under Node.js (node:net) against redbun under Bun (Bun.listen), measured with
// redis-benchmark: the same server code, the transport and the runtime changed.
//
//   bun run bench:node-transport [--rounds 3] [-n 200000]
//
// Builds the Node bundle first. Each round runs every (test, pipeline depth) against both
// servers, alternating which goes first; it prints the median requests per second, the
// server CPU per request (utime+stime from /proc), and Node / Bun ratios.

import { buildNode } from "../scripts/build-node.ts";
import { NODE_BUILD, installCleanup, startServers, stopAll, type ServerProcess } from "./lib/servers.ts";
import { runRedisBenchmark } from "./lib/redis-benchmark.ts";
import { dirname } from "node:path";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const rounds = flag("--rounds", 3);
const requests = flag("-n", 200_000);
const TESTS = ["set", "get"];
const DEPTHS = [1, 16];

installCleanup();
await buildNode(dirname(NODE_BUILD));
const servers = await startServers(["redbun", "redbun-node"]);
if (servers.length !== 2) {
  await stopAll(servers);
  throw new Error("both servers must start");
}
const [bun, node] = servers as [ServerProcess, ServerProcess];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const samples = new Map<string, { rps: number[]; cpuUs: number[] }>();
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? [bun, node] : [node, bun];
  for (const test of TESTS) {
    for (const depth of DEPTHS) {
      for (const server of order) {
        const run = await runRedisBenchmark(server, ["-t", test, "-n", String(requests), "-c", "50", "-P", String(depth)]);
        if (run.error !== undefined) throw new Error(run.error);
        const key = `${test} P${depth} ${server.name}`;
        const entry = samples.get(key) ?? { rps: [], cpuUs: [] };
        entry.rps.push(run.rows[0]!.rps);
        entry.cpuUs.push((run.cpuSeconds * 1e6) / requests);
        samples.set(key, entry);
        console.error(`round ${round + 1} ${key.padEnd(24)} ${run.rows[0]!.rps.toFixed(0)} rps`);
      }
    }
  }
}
await stopAll(servers);
console.log(`\n| test | P | Bun rps | Node rps | Node/Bun | Bun us/req | Node us/req | CPU Node/Bun |`);
console.log(`| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`);
for (const test of TESTS) {
  for (const depth of DEPTHS) {
    const b = samples.get(`${test} P${depth} redbun`)!;
    const n = samples.get(`${test} P${depth} redbun-node`)!;
    const [bRps, nRps, bCpu, nCpu] = [median(b.rps), median(n.rps), median(b.cpuUs), median(n.cpuUs)];
    console.log(`| ${test.toUpperCase()} | ${depth} | ${bRps.toFixed(0)} | ${nRps.toFixed(0)} | ${(nRps / bRps).toFixed(2)}x | ${bCpu.toFixed(2)} | ${nCpu.toFixed(2)} | ${(nCpu / bCpu).toFixed(2)}x |`);
  }
}
