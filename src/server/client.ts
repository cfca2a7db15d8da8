// One connection's state (Redis's client struct): its query buffer, the database it has
// selected, its protocol version, its name and flags, and the output it could not write yet.

import type { Socket } from "../transport/index.ts";
import type { Argv } from "../resp/parser.ts";
import type { ReplyWriter } from "../resp/writer.ts";
import type { Command } from "../commands/table.ts";
import type { Db } from "../store/db.ts";
import type { Server } from "./server.ts";
import { isLocalAddress } from "./address.ts";
import type { MultiState, WatchedKey } from "./transaction.ts";
import type { ClientTracking } from "./tracking.ts";
import type { ReplicaLink } from "../replication/master.ts";
import type { User } from "../acl/user.ts";

/** CLIENT REPLY modes. */
export const enum ReplyMode {
  On = 0,
  Off = 1,
  /** Skip the reply of the next command only. */
  SkipNext = 2,
  /** Set while the command after CLIENT REPLY SKIP runs. */
  Skip = 3,
}

/** What CLIENT PAUSE holds (Redis's pause_type), in increasing strictness. */
export const enum PauseMode {
  Off = 0,
  /** Commands that may write or replicate wait; the rest run. */
  Write = 1,
  /** Every command waits. */
  All = 2,
}

/** The first size of a client's buffer of unwritten output. */
const PENDING_INITIAL_BYTES = 16 * 1024;

export class Client {
  readonly id: number;
  readonly server: Server;
  socket: Socket<Client> | null;
  /** The shared parse result and reply builder of the server, valid while a command runs. */
  readonly argv: Argv;
  readonly w: ReplyWriter;
  db: Db;
  resp = 2;
  /** CLIENT SETNAME, latin1; empty when unset. */
  name = "";
  /**
   * Authenticated by AUTH or HELLO, or connected while the default user needed no
   * password (Redis's c->authenticated): commands need no AUTH even if it needs one later.
   */
  authenticated: boolean;
  /** The ACL user the connection runs as (src/acl/). */
  user: User;
  replyMode = ReplyMode.On;
  /** Set by QUIT and protocol errors: close once the pending replies are written. */
  closeAfterReply = false;
  /** Over its output buffer limit: nothing more is written, and it closes shortly (server/output-limits.ts). */
  closeAsap = false;
  /** When its unwritten output was first seen over the soft output buffer limit, in unix seconds; 0 when not. */
  obufSoftLimitReachedS = 0;
  /** CLIENT NO-EVICT. */
  noEvict = false;
  readonly createdMs: number;
  lastInteractionMs: number;
  /** The command running or last dispatched, rejected ones included (CLIENT LIST cmd=); null after an unknown one. */
  lastCommand: Command | null = null;
  /** EXEC while it runs its queued commands: CLIENT LIST's cmd= names it, as Redis's lastcmd. */
  outerCommand: Command | null = null;
  readonly addr: string;
  readonly laddr: string;
  /** Connected through `unixsocket` (CLIENT LIST flag U); such a peer is local. */
  unixSocket = false;
  /** Connected through `tls-port`: with tls-cluster, cluster replies name the TLS ports. */
  tls = false;
  /** The socket's file descriptor (CLIENT LIST fd=), -1 for clients without a socket. */
  readonly fd: number;
  /** Pub/sub subscriptions by kind (SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE); null until the first. */
  channels: Set<string> | null = null;
  patterns: Set<string> | null = null;
  shardChannels: Set<string> | null = null;
  /** In MONITOR mode: every command run is sent here (server/monitor.ts). */
  monitor = false;
  /** Set by the replication handshake; online once the client is a replica (replication/master.ts). */
  replica: ReplicaLink | null = null;
  /** This server's master, whose stream runs as this client's commands (replication/replica.ts). */
  isMaster = false;
  /** The replication offset after this client's last command: what WAIT waits for (Redis's woff). */
  replOffset = 0;
  /** Cluster mode: ASKING was sent, so the next command may use a slot being imported. */
  asking = false;
  /** Cluster mode: READONLY, so that a replica serves reads of its master's slots. */
  readonlyReplica = false;
  /** The transaction being queued between MULTI and EXEC, or null. */
  multi: MultiState | null = null;
  /** The keys this client WATCHes, or null (server/transaction.ts keeps the registry). */
  watched: WatchedKey[] | null = null;
  /** A watched key changed: the next EXEC fails (Redis's CLIENT_DIRTY_CAS). */
  dirtyCas = false;
  /** Blocking commands answer as if timed out at once (inside EXEC, as Redis's CLIENT_DENY_BLOCKING). */
  denyBlocking = false;
  /**
   * A script of this client runs commands now: they show as Redis's script client's in
   * MONITOR ("lua") and the slow log ("?:0", no name).
   */
  inScript = false;
  /** CLIENT TRACKING: the mode and redirect, null until first turned on (server/tracking.ts). */
  tracking: ClientTracking | null = null;
  /** Set while the client waits in a blocking command (server/blocking.ts keeps the wait). */
  blocked = false;
  /**
   * Set while CLIENT PAUSE holds this client's next command (Redis's BLOCKED_POSTPONE). The
   * command stays at the front of the query buffer and is parsed again once the pause ends.
   */
  postponed = false;
  /**
   * Bytes the held command takes at the front of the query buffer, and the bytes of the
   * arguments of the command the client is held or blocked in (CLIENT LIST).
   */
  postponedQueryBytes = 0;
  heldArgvBytes = 0;

  /** Bytes of an incomplete command, kept between reads. */
  qbuf: Uint8Array | null = null;
  qlen = 0;
  /** Length the query buffer must reach before the pending command can be complete. */
  wantEnd = 0;
  /** Replies the socket has not accepted yet, in order. */
  private pending: Uint8Array | null = null;
  private pendingStart = 0;
  private pendingEnd = 0;
  /** Set when reading is paused because too much output is pending. */
  paused = false;
  /** What this client's buffers add to server.clientBufferBytes (used_memory's clients share). */
  private bufferBytes = 0;

  constructor(id: number, server: Server, socket: Socket<Client> | null, db: Db, addr: string, laddr: string) {
    this.id = id;
    this.server = server;
    this.socket = socket;
    this.argv = server.argv;
    this.w = server.writer;
    this.db = db;
    this.user = server.acl.defaultUser;
    this.authenticated = !server.authRequired();
    this.createdMs = server.clock.nowMs;
    this.lastInteractionMs = this.createdMs;
    this.addr = addr;
    this.laddr = laddr;
    // Bun's sockets carry their descriptor at run time, though its types do not declare it.
    this.fd = (socket as { fd?: number } | null)?.fd ?? -1;
  }

  /** Whether the peer is on this machine (Redis's islocalClient), for protected configs. */
  isLocal(): boolean {
    return this.unixSocket || isLocalAddress(this.addr);
  }

  /** Replaces the query buffer (server.ts keeps what a read leaves incomplete there). */
  setQueryBuffer(buf: Uint8Array | null): void {
    this.qbuf = buf;
    this.countBuffers();
  }

  /**
   * Brings server.clientBufferBytes in line with this client's buffers at their allocated
   * size, as Redis counts client memory; a closed client counts nothing.
   */
  countBuffers(): void {
    const bytes = this.socket === null ? 0 : (this.qbuf?.length ?? 0) + (this.pending?.length ?? 0);
    this.server.clientBufferBytes += bytes - this.bufferBytes;
    this.bufferBytes = bytes;
  }

  /** Keep bytes that could not be written, behind any already pending. */
  queueOutput(bytes: Uint8Array): void {
    const n = bytes.length;
    if (this.pending === null) {
      this.pending = new Uint8Array(Math.max(n, PENDING_INITIAL_BYTES));
      this.pendingStart = this.pendingEnd = 0;
      this.countBuffers();
    } else if (this.pendingEnd + n > this.pending.length) {
      // Compact to the front, growing only if the live bytes still do not fit.
      const live = this.pendingEnd - this.pendingStart;
      let size = this.pending.length;
      while (size < live + n) size *= 2;
      const target = size === this.pending.length ? this.pending : new Uint8Array(size);
      if (target === this.pending) target.copyWithin(0, this.pendingStart, this.pendingEnd);
      else target.set(this.pending.subarray(this.pendingStart, this.pendingEnd));
      this.pending = target;
      this.pendingStart = 0;
      this.pendingEnd = live;
      this.countBuffers();
    }
    this.pending.set(bytes, this.pendingEnd);
    this.pendingEnd += n;
  }

  /** The output still waiting for the socket. */
  pendingBytes(): Uint8Array {
    return this.pending!.subarray(this.pendingStart, this.pendingEnd);
  }

  /** Drop `n` bytes from the front of the pending output once the socket took them. */
  consumeOutput(n: number): void {
    this.pendingStart += n;
    if (this.pendingStart >= this.pendingEnd) {
      // A buffer of the first size is kept for the next output (a subscriber has every
      // message queued); a grown one goes back.
      if (this.pending!.length > PENDING_INITIAL_BYTES) {
        this.pending = null;
        this.countBuffers();
      }
      this.pendingStart = this.pendingEnd = 0;
    }
  }

  /** Bytes of output not yet written (CLIENT LIST omem, output buffer limits). */
  get pendingLen(): number {
    return this.pendingEnd - this.pendingStart;
  }
}
