// Building blocks of the seeded command-sequence fuzzers: a weighted table of command
// makers, each given the PRNG and two keys drawn from the fuzzer's small key set.

export type Random = () => number;

/** A command maker: makes one command from the PRNG and two keys. */
export type Maker = (r: Random, k: string, k2: string) => string[];

/** The seed a randomized test runs with: SEED from the environment to replay a run, else random. */
export function seedFromEnv(): number {
  return process.env.SEED ? Number(process.env.SEED) : (Math.random() * 2 ** 32) >>> 0;
}

/** How many commands a fuzzer sends: STEPS from the environment, else its default. */
export function stepsFromEnv(fallback: number): number {
  return Number(process.env.STEPS ?? fallback);
}

export const pick = <T>(r: Random, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

/** A function that draws a command from `generators` ([weight, maker] pairs) over `keys`. */
export function weightedCommands(generators: readonly (readonly [number, Maker])[], keys: readonly string[]): (r: Random) => string[] {
  const total = generators.reduce((sum, [weight]) => sum + weight, 0);
  return (r) => {
    let x = r() * total;
    const k = pick(r, keys);
    const k2 = pick(r, keys);
    for (const [weight, make] of generators) {
      x -= weight;
      if (x < 0) return make(r, k, k2);
    }
    return generators[generators.length - 1]![1](r, k, k2);
  };
}
