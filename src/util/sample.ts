// Random picks of distinct elements, shared by SRANDMEMBER, SPOP, HRANDFIELD and ZRANDMEMBER
// (Redis's CASE 3 / CASE 4 strategies in t_set.c, t_hash.c and t_zset.c).

import { randomBelow } from "./cursor.ts";

/**
 * Redis's SRANDMEMBER_SUB_STRATEGY_MUL, HRANDFIELD_SUB_STRATEGY_MUL and
 * ZRANDMEMBER_SUB_STRATEGY_MUL, all 3: `count` distinct picks out of `size` elements are
 * most of them when count*3 > size. Most are taken from a shuffle of the whole collection
 * (Redis copies it and removes random elements); few are drawn until enough differ.
 */
export function picksMostOf(count: number, size: number): boolean {
  return count * 3 > size;
}

/**
 * Moves a uniform random choice of `count` of the first `size` items to the front, in
 * random order: the first `count` steps of a Fisher-Yates shuffle.
 */
export function shufflePrefix<V>(items: { [index: number]: V }, count: number, size: number): void {
  for (let k = 0; k < count; k++) {
    const j = k + randomBelow(size - k);
    const t = items[k]!;
    items[k] = items[j]!;
    items[j] = t;
  }
}

/**
 * `count` distinct random elements of a collection many times bigger, drawn until that
 * many came up, in the order they first did (Redis's CASE 4).
 */
export function drawDistinct<T>(count: number, source: { random(): T | undefined }): Set<T> {
  const picked = new Set<T>();
  while (picked.size < count) picked.add(source.random()!);
  return picked;
}
