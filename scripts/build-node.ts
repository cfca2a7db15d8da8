// Builds redbun for Node.js: the package entry (src/index.ts) and everything it imports,
// dependencies included, as one plain ES module that `node` imports with no Bun at hand.
// Usage: bun scripts/build-node.ts [outdir]   (dist/node by default)

import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");

/** Writes the Node build to `outdir`; returns the path of its entry module. */
export async function buildNode(outdir: string): Promise<string> {
  const result = await Bun.build({
    entrypoints: [join(ROOT, "src/index.ts")],
    target: "node",
    format: "esm",
    outdir,
  });
  if (!result.success) throw new AggregateError(result.logs, "The Node build failed");
  return join(outdir, "index.js");
}

if (import.meta.main) console.log(await buildNode(resolve(process.argv[2] ?? join(ROOT, "dist/node"))));
