// Micro-benchmarks of the hot path, run with mitata: `bun run bench:micro`.
//
// Each suite file registers its benchmarks (mitata's `bench`/`group`/`summary`) when
// imported; this runner imports the suites that exist, then runs them all at once. Suites
// not written yet are skipped with a note, so the runner works from the start.
import { join } from "node:path";
import { run } from "mitata";

const SUITES = ["dispatch.bench.ts", "dict.bench.ts", "keytable.bench.ts", "parser.bench.ts", "writer.bench.ts", "hyperloglog.bench.ts", "bitmap.bench.ts", "geo.bench.ts", "zset.bench.ts"];

let loaded = 0;
for (const suite of SUITES) {
  const path = join(import.meta.dir, suite);
  if (!(await Bun.file(path).exists())) {
    console.error(`skipping ${suite}: not written yet`);
    continue;
  }
  await import(path);
  loaded++;
}

if (loaded === 0) {
  console.error("no micro-benchmark suites found; nothing to run");
} else {
  await run();
}
