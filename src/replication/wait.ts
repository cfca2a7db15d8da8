// WAIT numreplicas timeout (Redis's waitCommand): the client blocks until enough replicas
// acknowledged the stream up to its last write, or the time runs out; either way the reply
// is how many did. While a client waits, the master asks every replica for an ACK with
// REPLCONF GETACK once per turn of the event loop, as Redis does before sleeping.

import type { BlockedWait } from "../server/blocking.ts";
import type { Client } from "../server/client.ts";
import type { ReplyWriter } from "../resp/writer.ts";
import type { Server } from "../server/server.ts";

/** One WAIT: the offset its replicas must reach, and how many of them. */
class ReplicaWait implements BlockedWait {
  readonly keys: readonly string[] = [];

  constructor(
    private readonly server: Server,
    readonly db: BlockedWait["db"],
    readonly deadlineMs: number,
    private readonly offset: number,
    private readonly numReplicas: number,
  ) {}

  serve(_c: Client, w: ReplyWriter): boolean {
    const acked = this.server.replication.countAcked(this.offset);
    if (acked < this.numReplicas) return false;
    w.addInteger(acked);
    return true;
  }

  timeoutReply(_c: Client, w: ReplyWriter): void {
    w.addInteger(this.server.replication.countAcked(this.offset));
  }
}

export class ReplicaWaits {
  private readonly waits = new Map<Client, ReplicaWait>();

  constructor(private readonly server: Server) {}

  /** WAIT: answer now when enough replicas are there already (or inside EXEC), else block. */
  wait(c: Client, numReplicas: number, deadlineMs: number): void {
    const replication = this.server.replication;
    const acked = replication.countAcked(c.replOffset);
    if (acked >= numReplicas || c.denyBlocking) return c.w.addInteger(acked);
    const wait = new ReplicaWait(this.server, c.db, deadlineMs, c.replOffset, numReplicas);
    this.waits.set(c, wait);
    this.server.blocking.block(c, wait);
    replication.requestAcks();
  }

  /** A replica acknowledged: answer the waits that have enough replicas now. */
  acked(): void {
    for (const [c, wait] of this.waits) {
      // A wait that ended otherwise (timeout, CLIENT UNBLOCK, a closed client) is gone too.
      const blocking = this.server.blocking;
      if (!blocking.isWaitingIn(c, wait) || blocking.serveWait(c, wait)) this.waits.delete(c);
    }
  }

  get size(): number {
    return this.waits.size;
  }
}
