// Timers for deadlines that may be far away: setTimeout takes at most 2^31 - 1 ms (about
// 24.8 days) and fires at once for anything longer, so a longer wait goes in steps.

/** The longest delay setTimeout honours. */
export const MAX_TIMER_MS = 2147483647;

/**
 * Calls `fire` once `delayMs` have passed, in steps of at most MAX_TIMER_MS. Returns the
 * pending timer through `onArm` each time one is set, so the caller can clear it.
 */
export function setLongTimeout(fire: () => void, delayMs: number, onArm: (t: ReturnType<typeof setTimeout>) => void): void {
  if (delayMs <= MAX_TIMER_MS) {
    onArm(setTimeout(fire, Math.max(0, delayMs)));
    return;
  }
  onArm(setTimeout(() => setLongTimeout(fire, delayMs - MAX_TIMER_MS, onArm), MAX_TIMER_MS));
}

/**
 * Whole seconds from startMs to endMs as Redis counts them: time(NULL) at the end minus
 * time(NULL) at the start, so a job of a few ms that crosses a second boundary took 1.
 */
export function unixSecondsBetween(startMs: number, endMs: number): number {
  return Math.floor(endMs / 1000) - Math.floor(startMs / 1000);
}
