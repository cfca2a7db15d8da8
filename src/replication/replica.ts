// This server as a replica (Redis's replication.c, replica side): the link to its master,
// the handshake, the full or partial resynchronization, and the master's stream applied as
// commands of a client that gets no replies (Redis's master client).
//
// The handshake and the RDB transfer are read here, line by line and then byte by byte;
// once the link is up, every byte goes through the server's ordinary input path on the
// master client, which counts the bytes of each command it applies (slave_repl_offset) and
// passes what it applied on to this server's own replicas and backlog, as Redis 7.0 does.
//
// Offsets and IDs are the server's: ReplicationMaster.replId and .offset hold the master's
// while the link is up, so that a lost link, a restart (the RDB's repl-* fields) or a
// promotion continue from there.

import { transport, type Socket } from "../transport/index.ts";
import { renameSync, writeFileSync } from "node:fs";
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import { chainVerified, clientTlsOptions } from "../server/tls.ts";
import { rdbLoadBytes, rdbPath, tempRdbPath, unlinkQuietly, type ReplSaveInfo } from "../persistence/rdb.ts";
import { RdbError } from "../persistence/rdb-load.ts";
import { encodeCommands } from "../resp/command-encoder.ts";
import { FailoverState } from "./coordinated-failover.ts";

/** Where the link to the master stands (Redis's repl_state, the handshake steps folded). */
export const enum LinkState {
  /** Not a replica. */
  None,
  /** A replica waiting for the cron to connect. */
  Connect,
  /** The TCP connect is under way. */
  Connecting,
  /** PING, AUTH, REPLCONF sent; their replies are read in turn. */
  Handshake,
  /** PSYNC sent, its reply awaited. */
  ReceivePsync,
  /** Reading the RDB of a full resync. */
  Transfer,
  /** The stream is applied. */
  Connected,
}

/** The replies the handshake waits for, in the order its commands were sent. */
const enum Step {
  Pong,
  Auth,
  ListeningPort,
  IpAddress,
  Capa,
}

/** Length of the random mark that ends an RDB framed with $EOF: (Redis's RDB_EOF_MARK_SIZE). */
const EOF_MARK_BYTES = 40;

type LinkSocket = Socket<MasterLink>;

export class MasterLink {
  host: string | null = null;
  port = 0;
  state = LinkState.None;
  /** The master client while the link is up: the stream's commands run as its commands. */
  client: Client | null = null;
  /** Offset of the last byte of the last command applied, and of the last byte read. */
  reploff = 0;
  readReploff = 0;
  /**
   * Whether this server has a history to ask the master to continue (Redis's cached
   * master): after a sync, after a restart from an RDB with repl-* fields, or its own when
   * it was a master. Without one PSYNC asks `? -1`.
   */
  private canContinue = false;
  /** The database the master's stream has selected, kept while the link is down. */
  private streamDbId = 0;
  private socket: LinkSocket | null = null;
  /** Handshake and transfer input not consumed yet. */
  private input: Uint8Array = new Uint8Array(0);
  private steps: Step[] = [];
  /** What FULLRESYNC announced: the history the RDB to come starts. */
  private fullReplId = "";
  private fullOffset = 0;
  /** The RDB being received: its size (-1 until its header is read), or its $EOF: mark. */
  private transferSize = -1;
  private eofMark: Uint8Array | null = null;
  private transferChunks: Uint8Array[] = [];
  transferRead = 0;
  /** When the link last received something, and when it went down (0: never up). */
  lastIoMs = 0;
  downSinceMs = 0;
  private cronTimer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly server: Server) {}

  /** Whether this server is a replica (of a master it may not reach yet). */
  get isReplica(): boolean {
    return this.host !== null;
  }

  get connected(): boolean {
    return this.state === LinkState.Connected;
  }

  /** The master stream's selected database, -1 when this server is not a replica with a history. */
  streamDb(): number {
    if (this.client !== null) return this.client.db.id;
    return this.canContinue ? this.streamDbId : -1;
  }

  /**
   * REPLICAOF host port, or the replicaof directive at start-up (`fromConfig`): follow this
   * master from now on. A master keeps its own history as the one to continue, so that it
   * can rejoin its promoted replica with a partial resync.
   */
  setMaster(host: string, port: number, fromConfig = false): void {
    const wasMaster = this.host === null;
    this.host = host;
    this.port = port;
    if (this.client !== null) this.dropClient();
    this.cancelHandshake();
    this.server.disconnectBlockedClients();
    if (wasMaster && !fromConfig) {
      this.server.log.notice(
        "Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.",
      );
      this.canContinue = true;
      this.streamDbId = 0;
    }
    this.server.replication.startProxying();
    this.server.log.role = "S";
    this.state = LinkState.Connect;
    this.startCron();
    // Redis connects at once instead of waiting for the cron.
    this.connect();
  }

  /** The repl-* fields of the RDB loaded at start-up: the history to ask the master to continue. */
  restoreHistory(info: ReplSaveInfo): void {
    const replication = this.server.replication;
    replication.replId = info.replId;
    replication.offset = info.offset;
    this.reploff = this.readReploff = info.offset;
    this.streamDbId = info.streamDb;
    this.canContinue = true;
  }

  /** REPLICAOF NO ONE: a master again, continuing the history it followed under a new ID. */
  unsetMaster(): void {
    if (this.host === null) return;
    this.host = null;
    if (this.client !== null) this.dropClient();
    this.cancelHandshake();
    this.canContinue = false;
    this.stopCron();
    const replication = this.server.replication;
    replication.promote();
    // Its replicas must learn the new ID; they continue with a partial resync.
    for (const c of replication.replicas.slice()) this.server.closeClient(c);
    this.state = LinkState.None;
    this.downSinceMs = 0;
    this.server.log.role = "M";
    this.server.restartAofAfterSync();
  }

  // -------------------------------------------------------------------------------------
  // Connecting and the handshake
  // -------------------------------------------------------------------------------------

  private connect(): void {
    if (this.state !== LinkState.Connect || this.host === null) return;
    // tls-replication: the link is TLS; files that fail to load leave it down until the next try.
    const tls = this.server.config.tlsReplication ? clientTlsOptions(this.server) : undefined;
    if (tls === null) return;
    this.server.log.notice(`Connecting to MASTER ${this.host}:${this.port}`);
    this.state = LinkState.Connecting;
    this.lastIoMs = Date.now();
    const link = this;
    transport.connect<MasterLink>({
      hostname: this.host,
      port: this.port,
      data: this,
      ...(tls !== undefined ? { tls } : {}),
      socket: {
        open(socket) {
          // A TLS link starts after its handshake, since Bun drops what is written before.
          if (tls === undefined) link.onOpen(socket);
        },
        handshake(socket, _success, error) {
          link.onHandshake(socket, error);
        },
        data(socket, chunk) {
          if (socket === link.socket) link.onData(chunk);
        },
        drain(socket) {
          if (socket === link.socket && link.client !== null) link.server.writePending(link.client);
        },
        close(socket) {
          if (socket === link.socket) link.onLinkLost();
        },
        error(socket, error) {
          if (socket === link.socket) link.onLinkError(error);
        },
        connectError(_socket, error) {
          link.onLinkError(error);
        },
      },
    }).catch((error: unknown) => this.onLinkError(error as Error));
    this.server.log.notice("MASTER <-> REPLICA sync started");
  }

  /** Like Redis, the master's certificate chain must verify; its name is not checked. */
  private onHandshake(socket: LinkSocket, error: Error | null): void {
    if (chainVerified(socket.authorized, error)) return this.onOpen(socket);
    socket.end();
    this.onLinkError(new Error(`TLS handshake failed: ${error?.message ?? "certificate verify failed"}`));
  }

  private onOpen(socket: LinkSocket): void {
    if (this.state !== LinkState.Connecting) {
      socket.end();
      return;
    }
    this.socket = socket;
    socket.setNoDelay(true);
    this.server.log.notice("Non blocking connect for SYNC fired the event.");
    this.lastIoMs = Date.now();
    this.input = new Uint8Array(0);
    // The PING's reply comes first; the rest of the handshake is sent once it came.
    this.steps = [Step.Pong];
    this.state = LinkState.Handshake;
    this.send([["PING"]]);
  }

  /** After the PONG: AUTH, REPLCONF listening-port / ip-address / capa, pipelined as Redis sends them. */
  private sendHandshake(): void {
    const config = this.server.config;
    const out: string[][] = [];
    if (config.masterauth !== "") {
      out.push(config.masteruser !== "" ? ["AUTH", config.masteruser, config.masterauth] : ["AUTH", config.masterauth]);
      this.steps.push(Step.Auth);
    }
    // A TLS replica announces its TLS port, where its own replicas would connect.
    const ownPort = config.tlsReplication && this.server.tlsPort !== 0 ? this.server.tlsPort : this.server.port;
    const port = config.replicaAnnouncePort !== 0 ? config.replicaAnnouncePort : ownPort;
    out.push(["REPLCONF", "listening-port", String(port)]);
    this.steps.push(Step.ListeningPort);
    if (config.replicaAnnounceIp !== "") {
      out.push(["REPLCONF", "ip-address", config.replicaAnnounceIp]);
      this.steps.push(Step.IpAddress);
    }
    out.push(["REPLCONF", "capa", "eof", "capa", "psync2"]);
    this.steps.push(Step.Capa);
    this.send(out);
  }

  private sendPsync(): void {
    const replication = this.server.replication;
    let replId = "?";
    let offset = -1;
    if (this.canContinue) {
      replId = replication.replId;
      offset = replication.offset + 1;
      this.server.log.notice(`Trying a partial resynchronization (request ${replId}:${offset}).`);
    } else {
      this.server.log.notice("Partial resynchronization not possible (no cached master)");
    }
    this.state = LinkState.ReceivePsync;
    // A master handing over with FAILOVER asks its target to become the master.
    const psync = ["PSYNC", replId, String(offset)];
    if (replication.failover.state === FailoverState.InProgress) psync.push("FAILOVER");
    this.send([psync]);
  }

  private send(commands: readonly (readonly string[])[]): void {
    this.socket?.write(encodeCommands(commands));
  }

  private onData(chunk: Uint8Array): void {
    this.lastIoMs = Date.now();
    if (this.state === LinkState.Connected) {
      this.readReploff += chunk.length;
      this.server.handleInput(this.client!, chunk);
      return;
    }
    this.input = this.input.length === 0 ? chunk.slice() : concat(this.input, chunk);
    while (this.socket !== null) {
      if (this.state === LinkState.Transfer) {
        if (!this.readTransfer()) return;
        continue;
      }
      const line = this.takeLine();
      if (line === null) return;
      if (this.state === LinkState.Handshake) this.handshakeReply(line);
      else if (this.state === LinkState.ReceivePsync) this.psyncReply(line);
      else return;
    }
  }

  /** The next line of input without its CRLF, or null while it is incomplete. */
  private takeLine(): string | null {
    const at = this.input.indexOf(0x0a);
    if (at < 0) return null;
    const end = at > 0 && this.input[at - 1] === 0x0d ? at - 1 : at;
    const line = Buffer.from(this.input.buffer, this.input.byteOffset, end).toString("latin1");
    this.input = this.input.subarray(at + 1);
    return line;
  }

  private handshakeReply(line: string): void {
    const step = this.steps.shift();
    const log = this.server.log;
    switch (step) {
      case Step.Pong:
        // Redis accepts +PONG or an authentication error here (AUTH comes next).
        if (line.startsWith("-") && !line.startsWith("-NOAUTH") && !line.startsWith("-NOPERM") && !line.startsWith("-ERR operation not permitted")) {
          log.warning(`Error reply to PING from master: '${line}'`);
          return this.retryLater();
        }
        log.notice("Master replied to PING, replication can continue...");
        return this.sendHandshake();
      case Step.Auth:
        if (line.startsWith("-")) {
          log.warning(`Unable to AUTH to MASTER: ${line}`);
          return this.retryLater();
        }
        break;
      case Step.ListeningPort:
        if (line.startsWith("-")) log.notice(`(Non critical) Master does not understand REPLCONF listening-port: ${line}`);
        break;
      case Step.IpAddress:
        if (line.startsWith("-")) log.notice(`(Non critical) Master does not understand REPLCONF ip-address: ${line}`);
        break;
      case Step.Capa:
        if (line.startsWith("-")) log.notice(`(Non critical) Master does not understand REPLCONF capa: ${line}`);
        break;
    }
    if (this.steps.length === 0) this.sendPsync();
  }

  private psyncReply(line: string): void {
    const log = this.server.log;
    // A master preparing the RDB keeps the link alive with newlines.
    if (line === "") return;
    const failover = this.server.replication.failover;
    if (failover.state === FailoverState.InProgress) {
      if (!line.startsWith("+FULLRESYNC") && !line.startsWith("+CONTINUE")) return failover.abort("Failover target rejected psync request");
      failover.accepted();
    }
    if (line.startsWith("+FULLRESYNC")) {
      const [, replId = "", offset = ""] = line.split(" ");
      if (replId.length !== 40 || !/^-?\d+$/.test(offset)) {
        log.warning("Master replied with wrong +FULLRESYNC syntax.");
        this.fullReplId = "";
      } else {
        this.fullReplId = replId;
        this.fullOffset = Number(offset);
        log.notice(`Full resync from master: ${replId}:${offset}`);
      }
      if (this.canContinue) log.notice("Discarding previously cached master state.");
      this.canContinue = false;
      this.beginTransfer();
      return;
    }
    if (line.startsWith("+CONTINUE")) return this.continued(line.slice("+CONTINUE".length).trim());
    if (line.startsWith("-NOMASTERLINK") || line.startsWith("-LOADING")) {
      log.notice(`Master is currently unable to PSYNC but should be in the future: ${line}`);
    } else {
      log.warning(`Unexpected reply to PSYNC from master: ${line}`);
    }
    this.retryLater();
  }

  /** +CONTINUE [id]: the master sends what this server missed from its backlog. */
  private continued(newReplId: string): void {
    const log = this.server.log;
    const replication = this.server.replication;
    log.notice("Successful partial resynchronization with master.");
    if (newReplId.length === 40 && newReplId !== replication.replId) {
      // The master was promoted: its old ID becomes this server's second one, so that this
      // server's replicas can continue too (after they reconnect to learn the new one).
      replication.replId2 = replication.replId;
      replication.secondReplOffset = replication.offset + 1;
      replication.replId = newReplId;
      log.notice(`Master replication ID changed to ${newReplId}`);
      for (const c of replication.replicas.slice()) this.server.closeClient(c);
    }
    log.notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
    replication.ensureBacklog();
    this.linkUp();
  }

  // -------------------------------------------------------------------------------------
  // The RDB of a full resync
  // -------------------------------------------------------------------------------------

  private beginTransfer(): void {
    this.state = LinkState.Transfer;
    this.transferSize = -1;
    this.eofMark = null;
    this.transferChunks = [];
    this.transferRead = 0;
  }

  /** Reads what the input holds of the RDB; true once it is loaded and the link is up. */
  private readTransfer(): boolean {
    const log = this.server.log;
    if (this.transferSize === -1 && this.eofMark === null) {
      const line = this.takeLine();
      if (line === null) return false;
      if (line === "") return true;
      if (line.startsWith("-")) {
        log.warning(`MASTER aborted replication with an error: ${line.slice(1)}`);
        this.retryLater();
        return false;
      }
      if (!line.startsWith("$")) {
        log.warning(`Bad protocol from MASTER, the first byte is not '$' (we received '${line}'), are you sure the host and port are right?`);
        this.retryLater();
        return false;
      }
      if (line.startsWith("$EOF:") && line.length - 5 >= EOF_MARK_BYTES) {
        this.eofMark = Buffer.from(line.slice(5, 5 + EOF_MARK_BYTES), "latin1");
        log.notice("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
      } else {
        this.transferSize = Number(line.slice(1));
        log.notice(`MASTER <-> REPLICA sync: receiving ${this.transferSize} bytes from master to disk`);
      }
      return true;
    }
    let payload: Uint8Array | null = null;
    let rest: Uint8Array;
    if (this.eofMark === null) {
      const want = this.transferSize - this.transferRead;
      const take = Math.min(want, this.input.length);
      if (take > 0) this.transferChunks.push(this.input.slice(0, take));
      this.transferRead += take;
      rest = this.input.subarray(take);
      if (this.transferRead === this.transferSize) payload = joinChunks(this.transferChunks);
    } else {
      // Without a length the RDB ends with the mark, and nothing follows it until the
      // master has the replica's first ACK, so the mark ends what was read.
      if (this.input.length > 0) this.transferChunks.push(this.input.slice());
      this.transferRead += this.input.length;
      rest = new Uint8Array(0);
      if (this.transferRead >= EOF_MARK_BYTES && tailEquals(this.transferChunks, this.eofMark)) {
        const all = joinChunks(this.transferChunks);
        payload = all.subarray(0, all.length - EOF_MARK_BYTES);
      }
    }
    this.input = new Uint8Array(0);
    if (payload === null) return false;
    this.transferChunks = [];
    if (!this.loadTransferred(payload)) return false;
    if (rest.length > 0) this.onData(rest);
    return false;
  }

  /** Redis's readSyncBulkPayload, from the file on: save it, flush, load, follow the master. */
  private loadTransferred(rdb: Uint8Array): boolean {
    const server = this.server;
    const log = server.log;
    // The received file becomes this server's own, as with repl-diskless-load disabled.
    const temp = tempRdbPath(server);
    try {
      writeFileSync(temp, rdb);
      renameSync(temp, rdbPath(server));
    } catch (e) {
      log.warning(`Failed trying to rename the temp DB into ${server.config.dbfilename} in MASTER <-> REPLICA synchronization: ${(e as Error).message}`);
      unlinkQuietly(temp);
      this.retryLater();
      return false;
    }
    // A background save or rewrite of the old dataset must not overwrite the new one.
    server.rdb.bgsave?.abort();
    server.stopAofForSync();
    log.notice("MASTER <-> REPLICA sync: Flushing old data");
    server.emptyAllDatabases();
    log.notice("MASTER <-> REPLICA sync: Loading DB in memory");
    let streamDb = 0;
    try {
      const loaded = rdbLoadBytes(server, rdb, { keepExpired: true });
      if (loaded.repl !== null) streamDb = loaded.repl.streamDb;
    } catch (e) {
      if (!(e instanceof RdbError)) log.warning(`Error loading the RDB from the master: ${(e as Error).message}`);
      log.warning("Failed trying to load the MASTER synchronization DB from disk, check server logs.");
      server.emptyAllDatabases();
      this.retryLater();
      return false;
    }
    server.replication.adoptHistory(this.fullReplId, this.fullOffset);
    this.streamDbId = streamDb;
    log.notice("MASTER <-> REPLICA sync: Finished with success");
    this.linkUp();
    server.restartAofAfterSync();
    return true;
  }

  /** The stream follows: a master client applies it, and the master hears of it at once. */
  private linkUp(): void {
    const socket = this.socket!;
    this.state = LinkState.Connected;
    this.canContinue = true;
    this.downSinceMs = 0;
    this.client = this.server.adoptMasterClient(socket as unknown as Socket<Client>, this.streamDbId);
    this.reploff = this.readReploff = this.server.replication.offset;
    this.sendAck();
    // What arrived behind the PSYNC reply is the stream's start.
    const rest = this.input;
    this.input = new Uint8Array(0);
    if (rest.length > 0) this.onData(rest);
  }

  // -------------------------------------------------------------------------------------
  // The stream
  // -------------------------------------------------------------------------------------

  /** The master client applied a command of `bytes` bytes (or an empty line). */
  applied(bytes: number): void {
    this.reploff += bytes;
  }

  /** REPLCONF ACK <offset>: every second, after a sync, and when the master asks (GETACK). */
  sendAck(): void {
    const c = this.client;
    if (c === null) return;
    this.server.deliver(c, encodeCommands([["REPLCONF", "ACK", String(this.reploff)]]));
  }

  // -------------------------------------------------------------------------------------
  // Losing the link
  // -------------------------------------------------------------------------------------

  private onLinkError(error: Error): void {
    if (this.state === LinkState.Connecting) {
      this.server.log.warning(`Error condition on socket for SYNC: ${error.message}`);
      this.state = LinkState.Connect;
      return;
    }
    this.onLinkLost();
  }

  private onLinkLost(): void {
    this.socket = null;
    if (this.client !== null) {
      this.server.log.notice("Connection with master lost.");
      this.server.log.notice("Caching the disconnected master state.");
      this.dropClient();
    }
    this.input = new Uint8Array(0);
    this.transferChunks = [];
    if (this.host !== null) this.state = LinkState.Connect;
  }

  /** Frees the master client, keeping where its stream stood to ask for a partial resync. */
  private dropClient(): void {
    const c = this.client!;
    this.streamDbId = c.db.id;
    this.client = null;
    this.socket = null;
    this.canContinue = true;
    if (this.downSinceMs === 0) this.downSinceMs = Date.now();
    this.server.closeClient(c);
  }

  /**
   * The server closes (an embedded server's close()): the link, its handshake and its cron
   * go, without the promotion REPLICAOF NO ONE would make.
   */
  close(): void {
    this.host = null;
    if (this.client !== null) this.dropClient();
    this.cancelHandshake();
    this.stopCron();
  }

  /** A handshake that failed is dropped; the cron connects again (Redis's cancelReplicationHandshake). */
  private retryLater(): void {
    this.cancelHandshake();
    if (this.host !== null) this.state = LinkState.Connect;
  }

  private cancelHandshake(): void {
    const socket = this.socket;
    this.socket = null;
    this.input = new Uint8Array(0);
    this.transferChunks = [];
    if (socket !== null && this.client === null) socket.end();
    if (this.state !== LinkState.Connected) this.state = this.host === null ? LinkState.None : LinkState.Connect;
  }

  // -------------------------------------------------------------------------------------
  // The cron: reconnects, timeouts, ACKs (Redis's replicationCron, replica side)
  // -------------------------------------------------------------------------------------

  private startCron(): void {
    if (this.cronTimer !== null) return;
    this.cronTimer = setInterval(this.cron, 1000);
    this.cronTimer.unref?.();
  }

  private stopCron(): void {
    if (this.cronTimer !== null) clearInterval(this.cronTimer);
    this.cronTimer = null;
  }

  private readonly cron = (): void => {
    const now = Date.now();
    const timeoutMs = this.server.config.replTimeout * 1000;
    const log = this.server.log;
    const silentMs = now - this.lastIoMs;
    if ((this.state === LinkState.Connecting || this.state === LinkState.Handshake || this.state === LinkState.ReceivePsync) && silentMs > timeoutMs) {
      log.warning("Timeout connecting to the MASTER...");
      this.retryLater();
    } else if (this.state === LinkState.Transfer && silentMs > timeoutMs) {
      log.warning("Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.");
      this.retryLater();
    } else if (this.state === LinkState.Connected && silentMs > timeoutMs) {
      log.warning("MASTER timeout: no data nor PING received...");
      this.dropClient();
      this.state = LinkState.Connect;
    }
    if (this.state === LinkState.Connect) this.connect();
    else if (this.state === LinkState.Connected) this.sendAck();
  };

  // -------------------------------------------------------------------------------------
  // ROLE and INFO replication
  // -------------------------------------------------------------------------------------

  /** ROLE's state word for the link. */
  roleState(): string {
    switch (this.state) {
      case LinkState.None:
        return "none";
      case LinkState.Connect:
        return "connect";
      case LinkState.Connecting:
        return "connecting";
      case LinkState.Handshake:
      case LinkState.ReceivePsync:
        return "handshake";
      case LinkState.Transfer:
        return "sync";
      case LinkState.Connected:
        return "connected";
    }
  }

  /** The lines INFO replication has for a replica, between role and connected_slaves. */
  infoLines(nowMs: number): string[] {
    const config = this.server.config;
    const connected = this.state === LinkState.Connected;
    const secondsSince = (ms: number) => Math.floor((nowMs - ms) / 1000);
    const lines = [
      `master_host:${this.host}`,
      `master_port:${this.port}`,
      `master_link_status:${connected ? "up" : "down"}`,
      `master_last_io_seconds_ago:${this.client !== null ? secondsSince(this.lastIoMs) : -1}`,
      `master_sync_in_progress:${this.state === LinkState.Transfer ? 1 : 0}`,
      `slave_read_repl_offset:${this.client !== null || this.canContinue ? this.readReploff : 1}`,
      `slave_repl_offset:${this.client !== null || this.canContinue ? this.reploff : 1}`,
    ];
    if (this.state === LinkState.Transfer) {
      const total = Math.max(this.transferSize, 0);
      const perc = total > 0 ? (this.transferRead / total) * 100 : 0;
      lines.push(
        `master_sync_total_bytes:${this.transferSize}`,
        `master_sync_read_bytes:${this.transferRead}`,
        `master_sync_left_bytes:${this.transferSize - this.transferRead}`,
        `master_sync_perc:${perc.toFixed(2)}`,
        `master_sync_last_io_seconds_ago:${secondsSince(this.lastIoMs)}`,
      );
    }
    if (!connected) lines.push(`master_link_down_since_seconds:${this.downSinceMs !== 0 ? secondsSince(this.downSinceMs) : -1}`);
    lines.push(`slave_priority:${config.replicaPriority}`, `slave_read_only:${config.replicaReadOnly ? 1 : 0}`, `replica_announced:${config.replicaAnnounced ? 1 : 0}`);
    return lines;
  }
}


function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function joinChunks(chunks: Uint8Array[]): Uint8Array {
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** Whether the bytes of `chunks`, taken together, end with `mark`. */
function tailEquals(chunks: readonly Uint8Array[], mark: Uint8Array): boolean {
  let chunk = chunks.length - 1;
  let at = chunks[chunk]!.length;
  for (let i = mark.length - 1; i >= 0; i--) {
    while (at === 0) {
      if (--chunk < 0) return false;
      at = chunks[chunk]!.length;
    }
    if (chunks[chunk]![--at] !== mark[i]) return false;
  }
  return true;
}
