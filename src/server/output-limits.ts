// client-output-buffer-limit (Redis's checkClientOutputBufferLimits and
// closeClientOnOutputBufferLimitReached): a client whose unwritten output reaches its class's
// hard limit, or stays at or above the soft limit for longer than the soft seconds, is
// disconnected, so that a reader that stopped reading (a stalled subscriber above all) cannot
// make the server hold its output without bound. A limit of 0 is none.
//
// The output counted is what the socket has not accepted (Client.pendingLen), as Redis counts
// its reply list, plus for a replica still syncing the stream kept for it until its RDB is
// through (Redis 7.0 counts a replica's share of the replication buffer the same way). Two places check, as in Redis: the output path, each time output is queued,
// closes the client asynchronously (never in the middle of another client's command, whose
// delivery loop may be walking the subscribers); the cron closes at once a client that has
// been over its soft limit too long while no new output arrived.

import type { Client } from "./client.ts";
import type { Server } from "./server.ts";
import { isSubscribed } from "./pubsub.ts";
import { clientInfoLine } from "../commands/connection.ts";

export class OutputLimits {
  private readonly server: Server;
  /** Clients found over a limit, closed once the code running now is done. */
  private scheduled: Client[] = [];

  constructor(server: Server) {
    this.server = server;
  }

  /** Output was just queued for c: schedule its disconnection if that put it over a limit. */
  afterQueued(c: Client): void {
    if (c.closeAsap || !this.reached(c)) return;
    this.server.log.warning(`Client ${describe(c, this.server)} scheduled to be closed ASAP for overcoming of output buffer limits.`);
    // Nothing more is written to it, as Redis adds no reply to a client closing ASAP.
    c.closeAsap = true;
    this.scheduled.push(c);
    if (this.scheduled.length === 1) queueMicrotask(this.closeScheduled);
  }

  private readonly closeScheduled = (): void => {
    const clients = this.scheduled;
    this.scheduled = [];
    for (const c of clients) this.server.closeClient(c);
  };

  /** From the cron: close the clients whose output stayed over the soft limit too long. */
  cron(): void {
    for (const c of this.server.clients.values()) {
      if (outputBytes(c) === 0 || c.closeAsap || !this.reached(c)) continue;
      this.server.log.warning(`Client ${describe(c, this.server)} closed for overcoming of output buffer limits.`);
      this.server.closeClient(c);
    }
  }

  /**
   * Whether c's pending output is over its class's limits. The soft limit counts from the
   * first time it was seen reached, and is forgotten only when a check finds the output
   * below it (not when the output drains with no check), as in Redis.
   */
  private reached(c: Client): boolean {
    const config = this.server.config;
    const all = config.clientOutputBufferLimit;
    // A client is a replica from its SYNC on; a MONITOR client is a normal one, as in Redis.
    const replica = this.server.replication.isReplica(c);
    const limit = replica ? all.replica : isSubscribed(c) ? all.pubsub : all.normal;
    const used = outputBytes(c);
    let hardBytes = limit.hardBytes;
    // A replica's hard limit below repl-backlog-size is raised to it: a partial resync
    // would succeed only for the replica to be cut off at once (Redis 7.0 ignores it too).
    if (replica && hardBytes > 0 && hardBytes < config.replBacklogSize) hardBytes = config.replBacklogSize;
    const hard = hardBytes > 0 && used >= hardBytes;
    let soft = limit.softBytes > 0 && used >= limit.softBytes;
    const nowS = Math.floor(this.server.clock.nowMs / 1000);
    if (!soft) {
      c.obufSoftLimitReachedS = 0;
    } else if (c.obufSoftLimitReachedS === 0) {
      c.obufSoftLimitReachedS = nowS;
      soft = false;
    } else if (nowS - c.obufSoftLimitReachedS <= limit.softSeconds) {
      soft = false;
    }
    return soft || hard;
  }
}

/** Output held for c: what its socket has not taken, and the stream kept for a syncing replica (CLIENT LIST omem). */
export function outputBytes(c: Client): number {
  return c.replica === null ? c.pendingLen : c.pendingLen + c.replica.pendingBytes;
}

/** The client as CLIENT LIST shows it, for the log (Redis's catClientInfoString). */
function describe(c: Client, server: Server): string {
  return clientInfoLine(c, server.current).trimEnd();
}
