// SHUTDOWN (and SIGTERM/SIGINT) on a master whose replicas lag (Redis 7.0's
// prepareForShutdown): unless NOW is given, writes pause, the replicas are asked for an ACK,
// and the shutdown waits until every replica acknowledged the whole stream or
// shutdown-timeout seconds passed, so that a replica promoted afterwards lost nothing.
// The SHUTDOWN callers wait meanwhile; they hear back only if the shutdown then fails
// (or SHUTDOWN ABORT cancels it), since a shutdown that succeeds closes their connections.

import type { BlockedWait } from "./blocking.ts";
import type { Client } from "./client.ts";
import type { ReplyWriter } from "../resp/writer.ts";
import type { Db } from "../store/db.ts";

export const enum ShutdownOutcome {
  /** The server closed; the process exits. */
  Done,
  /** The shutdown failed (the final save); the server stays up. */
  Failed,
  /** Waiting for the replicas; the caller is answered later if at all. */
  Waiting,
}

const SHUTDOWN_FAILED = "ERR Errors trying to SHUTDOWN. Check logs.";

/** A SHUTDOWN caller waiting for the replicas: answered only with the failure. */
class ShutdownCaller implements BlockedWait {
  readonly keys: readonly string[] = [];
  readonly deadlineMs = 0;

  constructor(readonly db: Db) {}

  serve(_c: Client, w: ReplyWriter): boolean {
    w.addError(SHUTDOWN_FAILED);
    return true;
  }

  timeoutReply(_c: Client, w: ReplyWriter): void {
    w.addError(SHUTDOWN_FAILED);
  }
}

/** What a shutdown waiting for its replicas will do once they caught up or time ran out. */
export class PendingShutdown {
  readonly callers = new Map<Client, ShutdownCaller>();
  private timer: ReturnType<typeof setTimeout> | null;

  constructor(
    readonly exitCode: number,
    readonly finalSave: (() => boolean) | null,
    timeoutMs: number,
    onTimeout: () => void,
  ) {
    this.timer = setTimeout(onTimeout, timeoutMs);
  }

  /** The caller's SHUTDOWN waits. */
  hold(c: Client, block: (c: Client, wait: BlockedWait) => void): void {
    const wait = new ShutdownCaller(c.db);
    this.callers.set(c, wait);
    block(c, wait);
  }

  /** The callers still waiting learn that the shutdown failed or was aborted. */
  answerFailure(serve: (c: Client, wait: BlockedWait) => void): void {
    for (const [c, wait] of this.callers) serve(c, wait);
    this.callers.clear();
  }

  cancelTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
