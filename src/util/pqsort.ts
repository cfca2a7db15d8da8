// Redis's pqsort (pqsort.c): the Bentley-McIlroy quicksort of NetBSD's qsort, which only
// recurses into the partitions that reach into a window of positions, so that the window
// ends up as a full sort would leave it. It is not stable, and SORT ... LIMIT and GEOSEARCH
// ... COUNT show the order it leaves equal elements in, so it is kept swap for swap. Unlike
// NetBSD's qsort, redis-server 7.0 does not switch to insertion sort after a partition pass
// that swapped nothing: replies show it partitioning such a run all the same, and so does
// this.

/** Compares the elements two entries stand for: negative, zero or positive. */
export type EntryCompare = (a: number, b: number) => number;

/**
 * Sort v[lo .. lo+n) enough that the entries at positions left .. right are those a full
 * sort would put there, in Redis's exact order.
 */
export function pqsort(v: number[], lo: number, n: number, left: number, right: number, compare: EntryCompare): void {
  for (;;) {
    if (n < 7) return insertionSort(v, lo, n, compare);
    swap(v, lo, pivotOf(v, lo, n, compare));
    let pa = lo + 1;
    let pb = pa;
    let pc = lo + n - 1;
    let pd = pc;
    // Entries equal to the pivot gather at both ends (lo+1 .. pa, pd .. end), smaller ones
    // after the first group, greater ones before the second.
    for (;;) {
      let cmp: number;
      while (pb <= pc && (cmp = compare(v[pb]!, v[lo]!)) <= 0) {
        if (cmp === 0) swap(v, pa++, pb);
        pb++;
      }
      while (pb <= pc && (cmp = compare(v[pc]!, v[lo]!)) >= 0) {
        if (cmp === 0) swap(v, pc, pd--);
        pc--;
      }
      if (pb > pc) break;
      swap(v, pb++, pc--);
    }
    // The equal entries move to the middle, between the smaller and the greater ones.
    const pn = lo + n;
    let r = Math.min(pa - lo, pb - pa);
    swapRuns(v, lo, pb - r, r);
    r = Math.min(pd - pc, pn - pd - 1);
    swapRuns(v, pb, pn - r, r);
    r = pb - pa;
    if (r > 1 && !outsideWindow(lo, r, left, right)) pqsort(v, lo, r, left, right, compare);
    r = pd - pc;
    if (r <= 1 || outsideWindow(pn - r, r, left, right)) return;
    lo = pn - r;
    n = r;
  }
}

/** Whether entries lo .. lo+n-1 all lie outside the window left .. right. */
function outsideWindow(lo: number, n: number, left: number, right: number): boolean {
  return (left < lo && right < lo) || (left >= lo + n && right >= lo + n);
}

function insertionSort(v: number[], lo: number, n: number, compare: EntryCompare): void {
  for (let m = lo + 1; m < lo + n; m++) {
    for (let l = m; l > lo && compare(v[l - 1]!, v[l]!) > 0; l--) swap(v, l, l - 1);
  }
}

/** The pivot's position: the middle, or the median of three (of nine past 40 entries). */
function pivotOf(v: number[], lo: number, n: number, compare: EntryCompare): number {
  let pm = lo + Math.floor(n / 2);
  if (n === 7) return pm;
  let pl = lo;
  let pn = lo + n - 1;
  if (n > 40) {
    const d = Math.floor(n / 8);
    pl = median3(v, pl, pl + d, pl + 2 * d, compare);
    pm = median3(v, pm - d, pm, pm + d, compare);
    pn = median3(v, pn - 2 * d, pn - d, pn, compare);
  }
  return median3(v, pl, pm, pn, compare);
}

/** The median of three entries by position (Bentley and McIlroy's med3). */
function median3(v: number[], a: number, b: number, c: number, compare: EntryCompare): number {
  if (compare(v[a]!, v[b]!) < 0) {
    if (compare(v[b]!, v[c]!) < 0) return b;
    return compare(v[a]!, v[c]!) < 0 ? c : a;
  }
  if (compare(v[b]!, v[c]!) > 0) return b;
  return compare(v[a]!, v[c]!) < 0 ? a : c;
}

function swap(v: number[], i: number, j: number): void {
  const t = v[i]!;
  v[i] = v[j]!;
  v[j] = t;
}

/** Swaps the n entries from i with the n entries from j (the ranges do not overlap). */
function swapRuns(v: number[], i: number, j: number, n: number): void {
  for (let k = 0; k < n; k++) swap(v, i + k, j + k);
}
