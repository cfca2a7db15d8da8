// The server: listeners, the read -> parse -> dispatch -> reply loop, and the cron.
// Data flows one way: socket bytes are parsed into the shared Argv, the dispatcher checks
// the command against the table and runs its handler, the handler appends replies to the
// shared writer, and everything one read event produced leaves in one socket write.

import type { Socket, SocketHandler } from "../transport/index.ts";
import { collectGarbage } from "../util/runtime.ts";
import { Argv, ParseState, parseCommand, pendingArgumentStart, NEED_MORE, PROTOCOL_ERROR, latin1 } from "../resp/parser.ts";
import { catRepr } from "../config/parse.ts";
import { clientInfoLine } from "../commands/connection.ts";
import { ReplyWriter } from "../resp/writer.ts";
import { ERR, unknownCommand, unknownSubcommand, wrongArity } from "../resp/errors.ts";
import { CMD, CommandTable, type Command } from "../commands/table.ts";
import { allCommands } from "../commands/index.ts";
import { Clock, Db, ExpiryPolicy, KeyspaceStats } from "../store/db.ts";
import { Client, PauseMode, ReplyMode } from "./client.ts";
import { Blocking, type BlockedCall, type BlockingHost } from "./blocking.ts";
import { KeyEventHub } from "./key-events.ts";
import { PubSub, subscribedContextError } from "./pubsub.ts";
import { OutputLimits, outputBytes } from "./output-limits.ts";
import { WatchRegistry } from "./transaction.ts";
import { Monitors } from "./monitor.ts";
import { KeyspaceNotifier } from "./notify.ts";
import { Tracking } from "./tracking.ts";
import { MAX_TIMER_MS } from "../util/timer.ts";
import { RecentClientPeaks, ServerStats } from "./stats.ts";
import type { Config } from "../config/params.ts";
import type { Logger } from "../log/log.ts";
import { ExpireCycleState, activeExpireCycle, activeExpireFastCycle } from "../cache/expire.ts";
import { Eviction, OOM_ERROR } from "../cache/evict.ts";
import { trackPeakMemory } from "../cache/memory.ts";
import { recordCommandLatency } from "../metrics/latency.ts";
import { Slowlog } from "../metrics/slowlog.ts";
import { LatencyMonitor } from "../metrics/latency-monitor.ts";
import { formatAddress } from "./address.ts";
import { Listeners, Transport } from "./listeners.ts";
import { acceptErrorText, verifiedPeer, type TlsContext } from "./tls.ts";
import { RdbState } from "../persistence/rdb.ts";
import { Propagation } from "./propagate.ts";
import { PendingShutdown, ShutdownOutcome } from "./shutdown.ts";
import { KeyHolds } from "./key-holds.ts";
import { Aof, aofStatus } from "../persistence/aof.ts";
import { ReplicationMaster } from "../replication/master.ts";
import { MasterLink } from "../replication/replica.ts";
import type { Cluster } from "../cluster/cluster.ts";
import { saveCron } from "../persistence/bgsave.ts";
import { BackgroundRewrite, rewriteCron } from "../persistence/bgrewrite.ts";
import { Acl } from "../acl/acl.ts";
import { flushLibraries } from "../scripting/lazy.ts";
import { closeMigrateLinks } from "../commands/migrate.ts";

/**
 * How large a query buffer holding `received` bytes of a request that ends at `wantEnd` is
 * made: large enough for the whole request, but never more than twice what arrived plus
 * QUERY_AHEAD_BYTES, so that a declared length alone (`$536870912`) cannot make the server
 * allocate it. Buffers still grow geometrically, so a large payload is copied O(1) times per byte.
 */
function queryBufferAhead(received: number, wantEnd: number): number {
  return Math.min(wantEnd, 2 * received + QUERY_AHEAD_BYTES);
}

export function randomHex(chars: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(chars / 2));
  return Buffer.from(bytes).toString("hex");
}

const QUEUED = new TextEncoder().encode("+QUEUED\r\n");
const NOAUTH = "NOAUTH Authentication required.";
const NOREPLICAS = "NOREPLICAS Not enough good replicas to write.";
export const READONLY_REPLICA = "READONLY You can't write against a read only replica.";
const MASTERDOWN = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
const MISCONF_RDB =
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/** Reading from a client pauses while this much of its output is still unwritten. */
const OUTPUT_PAUSE_BYTES = 4 * 1024 * 1024;
/** How far ahead of the bytes received a query buffer may grow for a request in progress. */
const QUERY_AHEAD_BYTES = 64 * 1024;
/** What protected mode tells a peer from outside before disconnecting it (Redis's text, typo included). */
const PROTECTED_MODE_DENIED =
  "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/** Buffers dropped by closed clients that start a garbage collection (see collectAfterRelease). */
const RELEASED_GC_BYTES = 64 * 1024 * 1024;
/** Input read since the last garbage collection that makes an idle server collect (see collectAfterBurst). */
const GC_INPUT_BYTES = 1024 * 1024;

/**
 * An embedded server's share of the runtime in its used_memory: about what Redis reports
 * at start-up (used_memory_startup ~ 0.86 MB), so that maxmemory means the same there.
 */
const EMBEDDED_RUNTIME_BYTES = 1 << 20;

/** What the server knows of a script that yields while busy (the script runner). */
export interface BusyScript {
  /** The BUSY error other clients get: it names SCRIPT KILL for EVAL, FUNCTION KILL for FCALL. */
  readonly busyError: string;
}

export class Server {
  readonly config: Config;
  readonly log: Logger;
  readonly commands: CommandTable;
  /** PING, which a failing AOF refuses along with the write commands, as Redis does. */
  private readonly pingCommand: Command;
  /** EXEC, which counts as the commands it would run, and answers refusals with EXECABORT. */
  private readonly execCommand: Command;
  /** ASKING, which alone keeps the client's ASKING flag for the next command. */
  private readonly askingCommand: Command;
  /** The commands that run at once inside MULTI instead of being queued. */
  private readonly txControl: Set<Command>;
  /** WATCHed keys, by database and key (see transaction.ts). */
  readonly watches: WatchRegistry;
  /** Clients in MONITOR mode. */
  readonly monitors = new Monitors();
  /** ACL users, the permission checks and the ACL log. */
  readonly acl: Acl;
  /** SLOWLOG's entries and LATENCY's event samples. */
  readonly slowlog: Slowlog;
  readonly latencyMonitor: LatencyMonitor;
  readonly dbs: Db[];
  readonly keyspaceStats = new KeyspaceStats();
  /** The time commands see, advanced once per command. */
  readonly clock = new Clock();
  readonly stats = new ServerStats();
  readonly recentClientPeaks = new RecentClientPeaks();
  readonly clients = new Map<number, Client>();
  readonly argv = new Argv();
  readonly writer = new ReplyWriter();
  /** The error replies counted when the last call ended (nested calls included, and a script's refused ones). */
  errorsAtLastCall = 0;
  /** The client whose commands are running (their replies go to `writer`), or null. */
  current: Client | null = null;
  /**
   * A script past busy-reply-threshold that gave the event loop back (src/scripting/run.ts):
   * until it ends, other clients get BUSY except for the allow_busy commands, and nothing
   * else touches the dataset (no cron, no master stream), so the script stays atomic.
   */
  busyScript: BusyScript | null = null;
  private readonly parseState = new ParseState();
  /** The TCP, TLS and unix socket listeners (see listeners.ts). */
  readonly listeners = new Listeners();
  /** The TLS certificates and keys, loaded at start-up when anything uses TLS. */
  tls: TlsContext | null = null;
  private nextClientId = 1;
  private cronTimer: ReturnType<typeof setInterval> | null = null;
  /** Where the active expiry cycle stands between calls. */
  readonly expireCycle = new ExpireCycleState();
  readonly startedMs = Date.now();
  /** Random 40-hex identity of this run (INFO run_id). */
  readonly runId = randomHex(40);
  /** This server's replicas and their stream, and its replication ID and offset. */
  readonly replication = new ReplicationMaster(this);
  /** This server's master, when it is a replica. */
  readonly upstream = new MasterLink(this);
  /** Path of the config file the server started with, or "" (INFO config_file). */
  configFile = "";
  /** When the dataset was last saved (LASTSAVE); start-up until persistence exists. */
  lastSaveMs = Date.now();
  /** Writes since the last save (INFO rdb_changes_since_last_save). */
  dirty = 0;
  /** RDB save and load status (LASTSAVE, INFO persistence, DEBUG RELOAD). */
  readonly rdb = new RdbState();
  /** Memory in use once started, and the highest seen (INFO used_memory_startup/peak). */
  readonly startupMemory: number;
  peakMemory: number;
  /** Bytes of the clients' query buffers and unwritten output, kept as they change (cache/memory.ts). */
  clientBufferBytes = 0;
  /** Called once the server has stopped because of SHUTDOWN or a signal. */
  onShutdown: ((exitCode: number) => void) | null = null;
  /** `latency-tracking`, mirrored for the dispatch path. */
  private latencyTracking: boolean;
  /** DEBUG SET-ACTIVE-EXPIRE. */
  activeExpireEnabled = true;
  /** CLIENT PAUSE: what is held (Redis's client_pause_type) and until when, in ms. */
  pauseMode = PauseMode.Off;
  pauseEndMs = 0;
  /** Fires when the pause is due to end. */
  private pauseTimer: ReturnType<typeof setTimeout> | null = null;
  /** Clients whose next command waits for the pause to end, in the order they were held. */
  private readonly postponedClients = new Set<Client>();
  /** Set while a run of the postponed clients is queued. */
  private resumeQueued = false;
  /** Where the databases report key changes, for the features listening (see key-events.ts). */
  readonly keyEvents: KeyEventHub;
  /** Clients waiting in blocking commands (BLPOP ...), by key. */
  readonly blocking: Blocking;
  /** Pub/Sub subscriptions and message delivery. */
  readonly pubsub = new PubSub(this);
  /** Keyspace notifications (notify-keyspace-events), published through pubsub. */
  readonly notifications: KeyspaceNotifier;
  /** Client-side caching: the keys tracking clients read, and their invalidation. */
  readonly tracking: Tracking;
  /** maxmemory: evictions and the OOM refusal (see cache/evict.ts). */
  readonly eviction: Eviction;
  /** client-output-buffer-limit enforcement. */
  readonly outputLimits = new OutputLimits(this);
  /**
   * Where the running command's replies start in the writer: CLIENT REPLY OFF and SKIP drop
   * what follows. Pushes move it past themselves (keepPushes).
   */
  private replyMark = 0;
  /** Clients with output queued for the end of this event-loop turn (see queueWrite). */
  private writeQueue: Client[] = [];
  /** Replies to clients other than the one whose command runs (a served BLPOP). */
  private readonly sideWriter = new ReplyWriter();
  /** For collectAfterBurst: the input counter at the last collection, the reads at the last cron. */
  private inputAtLastGc = 0;
  /** Bytes of buffers closed clients dropped since the last collection they started. */
  private releasedSinceGc = 0;
  private readsAtLastCron = 0;
  /** Clients whose wait ended, to run what they pipelined behind the blocking command. */
  private unblockedClients: Client[] = [];
  shuttingDown = false;
  /** A shutdown waiting for the replicas to catch up (see shutdown.ts), or null. */
  private pendingShutdown: PendingShutdown | null = null;
  /** Where changes go after each command (the AOF now, replicas later); idle when nothing listens. */
  readonly propagation = new Propagation();
  /** The append-only file while `appendonly` is on. */
  aof: Aof | null = null;
  /** Keys an in-flight MIGRATE works on: commands touching them wait (see key-holds.ts). */
  readonly keyHolds = new KeyHolds();
  /** Cluster mode (cluster-enabled yes): the cluster state, its bus and its redirections. */
  cluster: Cluster | null = null;
  /** The BGREWRITEAOF under way, if any. */
  aofRewrite: BackgroundRewrite | null = null;

  /**
   * `embedded`: the process belongs to a host (startServer), so its heap is not this
   * server's start-up memory (see startupMemory below).
   */
  constructor(config: Config, log: Logger, embedded = false) {
    const heapBefore = process.memoryUsage().heapUsed;
    this.config = config;
    this.log = log;
    this.commands = new CommandTable(allCommands);
    this.acl = new Acl(this);
    this.pingCommand = this.commands.byName.get("ping")!;
    this.execCommand = this.commands.byName.get("exec")!;
    this.askingCommand = this.commands.byName.get("asking")!;
    this.txControl = new Set(["exec", "discard", "multi", "watch", "quit", "reset"].map((name) => this.commands.byName.get(name)!));
    this.dbs = [];
    for (let i = 0; i < config.databases; i++) this.dbs.push(new Db(i, this.keyspaceStats, this.clock));
    for (const db of this.dbs) db.expiryPolicy = this.expiryPolicyHook;
    this.keyEvents = new KeyEventHub(this.dbs);
    this.blocking = new Blocking(this.blockingHost(), this.keyEvents);
    this.watches = new WatchRegistry(this.keyEvents);
    this.notifications = new KeyspaceNotifier(this);
    this.tracking = new Tracking(this);
    this.eviction = new Eviction(this);
    this.writer.onError = (message) => {
      this.stats.countError(message);
      if (this.current !== null && this.current.isMaster) this.errorToMaster(this.current, message);
    };
    // used_memory counts from the heap in use now (which includes its buffers); from here
    // on, the data structures count what they add (cache/memory.ts). Embedded, the heap is
    // mostly the host's: the server counts from what it allocated itself, on top of the
    // runtime's share a standalone server starts with.
    const heapNow = process.memoryUsage().heapUsed;
    this.startupMemory = this.peakMemory = embedded ? EMBEDDED_RUNTIME_BYTES + Math.max(0, heapNow - heapBefore) : heapNow;
    // The hot path reads these per command; the Config object has hundreds of properties,
    // so plain fields kept in step by hooks are cheaper to read.
    this.latencyTracking = config.latencyTracking;
    config.onChange("latency-tracking", () => {
      this.latencyTracking = config.latencyTracking;
    });
    this.slowlog = new Slowlog(config);
    this.latencyMonitor = new LatencyMonitor(config);
    this.parseState.maxBulkLen = config.protoMaxBulkLen;
    config.onChange("proto-max-bulk-len", () => {
      this.parseState.maxBulkLen = config.protoMaxBulkLen;
    });
    // CONFIG SET hz takes effect at once, as Redis re-reads it every cron tick.
    config.onChange("hz", () => {
      if (this.cronTimer !== null) this.startCron();
    });
    config.onChange("appendonly", () => this.applyAppendonly());
    config.onChange("repl-backlog-size", () => this.replication.backlog?.resize(config.replBacklogSize));
    // Last, so that the commands the server holds on to above are found by their own names.
    this.commands.rename(config.renameCommands);
  }

  /** Whether the default user has a password (or is off): connections must authenticate. */
  authRequired(): boolean {
    return this.acl.defaultNeedsAuth;
  }

  /**
   * Opens the listeners (see listeners.ts): `port` and `tls-port` on every `bind` address,
   * and `unixsocket`. Throws TlsConfigError or ListenError with the lines Redis logs;
   * returns the port Redis names in its logs.
   */
  listen(): number {
    this.listeners.start(this);
    this.startCron();
    return this.port || this.tlsPort;
  }

  /** The plain TCP port (INFO tcp_port, the announced port), 0 without a TCP listener. */
  get port(): number {
    return this.listeners.tcpPort || this.config.port;
  }

  get tlsPort(): number {
    return this.listeners.tlsPort || this.config.tlsPort;
  }

  socketHandlers(transport: Transport): SocketHandler<Client> {
    const server = this;
    const handlers: SocketHandler<Client> = {
      open(socket: Socket<Client>) {
        server.onOpen(socket, transport);
      },
      data(socket: Socket<Client>, chunk: Uint8Array) {
        server.handleInput(socket.data, chunk);
      },
      drain(socket: Socket<Client>) {
        server.writePending(socket.data);
      },
      close(socket: Socket<Client>) {
        server.onClose(socket.data);
      },
      error(socket: Socket<Client>) {
        if (socket.data !== undefined) server.onClose(socket.data);
      },
    };
    if (transport === Transport.Tls) {
      handlers.handshake = (socket: Socket<Client>, success: boolean, error: Error | null) => {
        if (socket.data !== undefined) server.onHandshake(socket, success, error);
      };
    }
    return handlers;
  }

  /**
   * A TLS client finished its handshake: one that failed, or whose certificate
   * tls-auth-clients refuses, is logged and closed; the others are accepted as plain ones are.
   */
  private onHandshake(socket: Socket<Client>, success: boolean, error: Error | null): void {
    const c = socket.data;
    const sentCertificate = success && Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
    if (!success || !verifiedPeer(this.tls!.authClients, socket.authorized, sentCertificate)) {
      this.log.warning(`Error accepting a client connection: ${acceptErrorText(error)}`);
      this.closeClient(c);
      return;
    }
    this.acceptClient(c);
  }

  private onOpen(socket: Socket<Client>, transport: Transport): void {
    socket.setNoDelay(true);
    // tcp-keepalive, read per connection so that CONFIG SET applies to the next ones, as in
    // Redis. Bun sets the idle time before the first probe; its probe interval and count are
    // its own (Redis uses a third of the idle time and 3 probes). A unix socket has none.
    const keepaliveS = this.config.tcpKeepalive;
    if (keepaliveS > 0 && transport !== Transport.Unix) socket.setKeepAlive(true, keepaliveS * 1000);
    if (this.clients.size >= this.config.maxclients) {
      this.stats.rejectedConnections++;
      socket.write("-ERR max number of clients reached\r\n");
      socket.end();
      return;
    }
    this.clock.tick();
    // Redis names a unix socket peer, and the local end, by the socket's path.
    const unix = transport === Transport.Unix;
    const addr = unix ? `${this.listeners.unixPath}:0` : formatAddress(socket.remoteAddress, socket.remotePort ?? 0);
    const laddr = unix ? addr : formatAddress(socket.localAddress ?? "", socket.localPort ?? this.port);
    const c = new Client(this.nextClientId++, this, socket, this.dbs[0]!, addr, laddr);
    c.unixSocket = unix;
    c.tls = transport === Transport.Tls;
    socket.data = c;
    this.clients.set(c.id, c);
    this.stats.connectionsReceived++;
    // A TLS client is accepted once its handshake is over (onHandshake).
    if (transport !== Transport.Tls) this.acceptClient(c);
  }

  /**
   * Protected mode (Redis's clientAcceptHandler): while the default user has no password, a
   * peer from outside this machine is told why and disconnected, whatever `bind` says.
   */
  private acceptClient(c: Client): void {
    if (!this.config.protectedMode || this.authRequired() || c.isLocal()) return;
    c.socket!.write(PROTECTED_MODE_DENIED);
    this.closeClient(c);
  }

  private onClose(c: Client): void {
    if (c.socket === null) return;
    c.socket = null;
    const buffersBefore = this.clientBufferBytes;
    c.countBuffers();
    this.collectAfterRelease(buffersBefore - this.clientBufferBytes);
    this.clients.delete(c.id);
    // A held command dies with its client, as in Redis: it never runs.
    if (c.postponed) this.postponedClients.delete(c);
    if (c.blocked) this.blocking.forget(c);
    this.pubsub.removeClient(c);
    if (c.watched !== null) this.watches.unwatchAll(c);
    if (c.monitor) this.monitors.clients.delete(c);
    if (c.tracking !== null) this.tracking.disable(c);
    if (c.replica !== null) this.replication.removeReplica(c);
  }

  /**
   * The client the master link's stream runs as, once the link is up (Redis's
   * replicationCreateMasterClient): authenticated, with replies silenced, in the database
   * the stream has selected.
   */
  adoptMasterClient(socket: Socket<Client>, dbId: number): Client {
    const addr = formatAddress(socket.remoteAddress, socket.remotePort ?? 0);
    const laddr = formatAddress(socket.localAddress ?? "", socket.localPort ?? 0);
    const c = new Client(this.nextClientId++, this, socket, this.dbs[dbId] ?? this.dbs[0]!, addr, laddr);
    c.isMaster = true;
    c.authenticated = true;
    c.replyMode = ReplyMode.Off;
    this.clients.set(c.id, c);
    return c;
  }

  /**
   * A master turning replica ends every blocking wait with an error and disconnects the
   * client, since what it waits for will come from its master now (Redis's
   * disconnectAllBlockedClients).
   */
  disconnectBlockedClients(): void {
    for (const c of this.blocking.blockedClients()) {
      this.blocking.unblockByRequest(c, true, "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)");
      c.closeAfterReply = true;
    }
  }

  /**
   * Before a whole dataset is loaded (a replica's full sync, DEBUG RELOAD): the keys and the
   * function libraries go, without anything propagated (Redis's emptyData).
   */
  emptyAllDatabases(): void {
    for (const db of this.dbs) db.flush();
    flushLibraries(this);
  }

  /** A replica stops its AOF while it loads its master's RDB (Redis's stopAppendOnly)... */
  stopAofForSync(): void {
    if (this.aof === null) return;
    this.aofRewrite?.abort();
    this.detachAof();
  }

  /** ...and starts it again from a rewrite of the new dataset (restartAOFAfterSYNC). */
  restartAofAfterSync(): void {
    if (this.config.appendonly && this.aof === null) this.applyAppendonly();
  }

  /** Disconnect a client now (CLIENT KILL, QUIT after its reply, errors). */
  closeClient(c: Client): void {
    const s = c.socket;
    if (s === null) return;
    this.onClose(c);
    s.end();
  }

  /** Bytes a client sent (its socket's data event; the master link's once it is up). */
  handleInput(c: Client, chunk: Uint8Array): void {
    if (c.socket === null || c.closeAfterReply) return;
    if (c.isMaster) this.stats.netReplInputBytes += chunk.length;
    else this.stats.netInputBytes += chunk.length;
    this.stats.readsProcessed++;
    this.clock.tick();
    c.lastInteractionMs = this.clock.nowMs;
    let buf: Uint8Array;
    let end: number;
    // A master's stream waits while a script is busy, as in Redis: replicas get no BUSY.
    const held = c.blocked || (this.busyScript !== null && c.isMaster);
    if (c.qlen === 0 && !held) {
      // Fast path: parse straight from the socket's chunk without copying it.
      buf = chunk;
      end = chunk.length;
    } else {
      this.appendQuery(c, chunk);
      if (c.qlen > this.config.clientQueryBufferLimit && this.closeOverQueryLimit(c)) return;
      // A held or blocked client keeps reading, as in Redis, but runs nothing until its
      // wait ends.
      if (c.qlen < c.wantEnd || c.postponed || held) return;
      buf = c.qbuf!;
      end = c.qlen;
    }
    this.processQuery(c, buf, end);
  }

  /**
   * Run the complete commands in buf[0..end), keep what remains (an incomplete command, or
   * a held one and everything behind it) in the client's query buffer, and send the replies.
   */
  private processQuery(c: Client, buf: Uint8Array, end: number): void {
    this.current = c;
    const state = this.parseState;
    state.authRequired = !c.authenticated && this.acl.defaultNeedsAuth;
    const w = this.writer;
    w.reset();
    let pos = 0;
    let wantEnd = 0;
    while (pos < end) {
      const next = parseCommand(buf, pos, end, this.argv, state);
      if (next === NEED_MORE) {
        wantEnd = state.wantEnd;
        break;
      }
      if (next === PROTOCOL_ERROR) {
        w.resp = c.resp;
        w.addError("ERR " + state.error);
        this.log.verbose(`Protocol error (${state.error}) from client: id=${c.id} addr=${c.addr}`);
        c.closeAfterReply = true;
        pos = end;
        break;
      }
      const commandStart = pos;
      pos = next;
      if (this.argv.count === 0) {
        // An empty line still counts in a master's stream offset.
        if (c.isMaster) this.upstream.applied(pos - commandStart);
      } else {
        // CLIENT REPLY OFF/SKIP silences rejected commands as much as executed ones.
        this.replyMark = w.len;
        this.call(c);
        if (c.postponed) {
          // The held command stays in the buffer to be parsed again, the rest behind it.
          c.postponedQueryBytes = pos - commandStart;
          pos = commandStart;
          break;
        }
        // ASKING lasts one command, or the whole transaction it opens (Redis's resetClient).
        if (c.asking && c.multi === null && c.lastCommand !== this.askingCommand) c.asking = false;
        // A master's command counts in the offset once it ran (REPLCONF GETACK's own does not).
        if (c.isMaster) this.upstream.applied(pos - commandStart);
        this.afterCommand(c, this.replyMark);
        if (this.tracking.active) this.tracking.afterCommandProcessed(c);
        // Redis serves blocked clients after each command, in processCommand.
        if (this.blocking.hasReadyKeys) this.blocking.serveReadyKeys();
        // What follows a blocking command waits in the query buffer until the wait ends.
        if (c.blocked) break;
        if (c.closeAfterReply || c.socket === null) {
          pos = end;
          break;
        }
      }
      state.authRequired = !c.authenticated && this.acl.defaultNeedsAuth;
    }
    // What a master's stream applied passes on to this server's replicas and backlog.
    if (c.isMaster && pos > 0) this.replication.feedFromUpstream(buf.subarray(0, pos));
    this.keepTail(c, buf, pos, end, Math.max(wantEnd, pos));
    this.current = null;
    // The batch's commands reach the AOF before any of its replies leave.
    if (this.aof !== null) this.aof.write();
    this.flush(c);
    // Redis runs the fast expiry cycle before the event loop sleeps; after a batch is the
    // nearest point here. It returns at once unless the last cycle ran out of time.
    if (this.expireCycle.timeLimitExit && this.activeExpiryRuns()) this.expireFast();
  }

  /** The fast expiry cycle, with what it deleted propagated one by one like the slow one's. */
  private expireFast(): void {
    activeExpireFastCycle(this);
    if (this.propagation.active) this.propagation.flushEach();
    if (this.aof !== null) this.aof.write();
  }

  /**
   * client-query-buffer-limit: close c if what Redis would hold in its query buffer is over
   * the limit. A blocked or held client's buffer is unparsed, so all of it counts; otherwise
   * only the argument still arriving does (the complete ones are parsed arguments in Redis).
   */
  private closeOverQueryLimit(c: Client): boolean {
    // A master's stream is exempt, as in Redis: its commands are as large as its clients'
    // were, whatever this replica's limit says.
    if (c.isMaster) return false;
    const qbuf = c.qbuf!;
    const start = c.blocked || c.postponed ? 0 : pendingArgumentStart(qbuf, c.qlen);
    if (c.qlen - start <= this.config.clientQueryBufferLimit) return false;
    const initial = catRepr(latin1(qbuf, start, Math.min(64, c.qlen - start)));
    this.log.warning(`Closing client that reached max query buffer length: ${clientInfoLine(c, null).trimEnd()} (qbuf initial bytes: ${initial})`);
    this.closeClient(c);
    return true;
  }

  /** Append a chunk to the client's query buffer, growing it for the bytes known to be coming. */
  private appendQuery(c: Client, chunk: Uint8Array): void {
    const need = Math.max(c.qlen + chunk.length, queryBufferAhead(c.qlen + chunk.length, c.wantEnd));
    if (c.qbuf === null || need > c.qbuf.length) {
      const bigger = new Uint8Array(Math.max(need, (c.qbuf?.length ?? 0) * 2, 1024));
      if (c.qbuf !== null) bigger.set(c.qbuf.subarray(0, c.qlen));
      c.setQueryBuffer(bigger);
    }
    c.qbuf!.set(chunk, c.qlen);
    c.qlen += chunk.length;
  }

  /** Keep buf[pos..end), an incomplete command, at the front of the client's query buffer. */
  private keepTail(c: Client, buf: Uint8Array, pos: number, end: number, wantEnd: number): void {
    const rest = end - pos;
    if (rest <= 0) {
      c.qlen = 0;
      c.wantEnd = 0;
      // Give back a large buffer once it is idle, as Redis trims an idle query buffer.
      if (c.qbuf !== null && c.qbuf.length > 64 * 1024) c.setQueryBuffer(null);
      return;
    }
    if (buf === c.qbuf) {
      if (pos > 0) buf.copyWithin(0, pos, end);
    } else {
      const size = Math.max(rest, queryBufferAhead(rest, wantEnd - pos), 1024);
      if (c.qbuf === null || c.qbuf.length < size) c.setQueryBuffer(new Uint8Array(size));
      c.qbuf!.set(buf.subarray(pos, end));
    }
    c.qlen = rest;
    c.wantEnd = wantEnd - pos;
  }

  /** Dispatch the command in this.argv (Redis's processCommand + call). */
  private call(c: Client): void {
    const argv = this.argv;
    const w = this.writer;
    w.resp = c.resp;
    let cmd = this.commands.lookup(argv.buf, argv.start[0]!, argv.len[0]!);
    // Redis records the command before checking it (CLIENT LIST cmd=), nothing when unknown.
    c.lastCommand = cmd ?? null;
    if (cmd === undefined) return this.rejectUnknown(c);
    // A container that has a handler of its own (COMMAND) runs it when called bare.
    if (cmd.subcommands !== null && (argv.count > 1 || cmd.handler === null)) {
      if (argv.count === 1) return this.reject(c, cmd, wrongArity(cmd.fullName));
      const sub = cmd.subcommands.get(argv.lower(1));
      c.lastCommand = sub ?? null;
      // Redis finds no command for an unknown subcommand: only the error counters move.
      if (sub === undefined) {
        this.flagTransaction(c);
        // Named as the client typed it, which rename-command may have changed.
        return w.addError(unknownSubcommand(argv.str(1), argv.str(0)));
      }
      cmd = sub;
    }
    const arity = cmd.arity;
    if ((arity > 0 && argv.count !== arity) || argv.count < -arity) {
      return this.reject(c, cmd, wrongArity(cmd.fullName));
    }
    if (cmd.flags & CMD.protected && !this.protectedAllowed(c)) {
      return this.reject(
        c,
        cmd,
        `ERR ${cmd.name.toUpperCase()} command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`,
      );
    }
    if (!c.authenticated && !(cmd.flags & CMD.no_auth) && this.acl.defaultNeedsAuth) return this.reject(c, cmd, NOAUTH);
    if (c.multi !== null && cmd.flags & CMD.no_multi) return this.reject(c, cmd, "ERR Command not allowed inside a transaction");
    // ACL: a user allowed everything (the default user as shipped) costs one field read.
    if (!c.user.unrestricted && !c.isMaster) {
      const denied = this.acl.denial(c, cmd);
      if (denied !== null) return this.reject(c, cmd, denied);
    }
    // Cluster mode: a command for keys this node does not serve is redirected (MOVED, ASK ...).
    if (this.cluster !== null && !c.isMaster && (cmd.routed || cmd === this.execCommand) && !this.cluster.routeCommand(c, cmd)) {
      cmd.rejectedCalls++;
      if (cmd === this.execCommand) this.discardTransaction(c);
      else this.flagTransaction(c);
      return;
    }
    // EXEC counts as the commands it would run (Redis's mstate.cmd_flags).
    const flags = c.multi !== null && cmd === this.execCommand ? cmd.flags | c.multi.flags : cmd.flags;
    // A master's commands must run as they ran upstream: none of the refusals below apply.
    if (!c.isMaster) {
      const refusal = this.refusal(c, cmd, flags);
      if (refusal !== null) return this.reject(c, cmd, refusal);
    }
    if (this.busyScript !== null && !(cmd.flags & CMD.allow_busy)) return this.reject(c, cmd, this.busyScript.busyError);
    // Redis checks the pause after every rejection, so rejected commands still answer at once.
    if (this.pauseMode !== PauseMode.Off && this.pauseHolds(flags)) return this.postpone(c);
    // A command on keys an in-flight MIGRATE holds waits for it, as behind Redis's blocking one.
    if (this.keyHolds.count !== 0 && (c.multi === null || cmd === this.execCommand) && this.keyHolds.touches(c, cmd, argv, cmd === this.execCommand)) {
      return this.postpone(c);
    }
    if (c.multi !== null && !this.txControl.has(cmd)) {
      c.multi.queue(cmd, argv);
      w.addRaw(QUEUED);
      return;
    }
    this.execute(c, cmd);
  }

  /**
   * Run a command that passed every check (Redis's call()): the handler, then propagation,
   * statistics and latency. EXEC runs each queued command through here.
   */
  execute(c: Client, cmd: Command): void {
    const argv = this.argv;
    const errorsBefore = this.stats.errorReplies;
    // Reading the clock costs about as much as a whole GET, so each command reads it once,
    // when it ends: its time runs from the previous reading (the read event's, or the end of
    // the command before it in the same read), which adds its parsing to its duration, and
    // the time it sees is that reading too, at most one command old.
    const t0 = this.clock.monoMs;
    const dirtyBefore = this.dirty;
    try {
      cmd.handler!(c);
    } catch (e) {
      this.handlerFailed(c, cmd, e);
    }
    if (this.propagation.active) {
      this.propagation.afterCommand(c.db.id, argv, this.dirty !== dirtyBefore);
      c.replOffset = this.replication.offset;
    }
    if (this.monitors.active) this.feedMonitors(c, cmd);
    if (this.tracking.clients !== 0) this.tracking.afterCommand(c, cmd);
    const dt = this.clock.tick() - t0;
    cmd.calls++;
    cmd.usec += dt * 1000;
    // A call failed when errors were replied since the last call ended, its nested calls
    // included (EXEC's commands, a script's): their errors are theirs, as in Redis's
    // incrCommandStatsOnError. CONFIG RESETSTAT zeroes the counter mid-call, so only a rise counts.
    const errorsNow = this.stats.errorReplies;
    if (errorsNow > errorsBefore && errorsNow > this.errorsAtLastCall) cmd.failedCalls++;
    this.errorsAtLastCall = errorsNow;
    if (c.blocked) {
      // Redis samples a blocked command's latency and slow log entry when its wait ends.
      this.blocking.noteCall(c, { cmd, durationMs: dt, args: this.slowlog.capture(argv, this.monitors) });
    } else {
      if (this.latencyTracking) recordCommandLatency(cmd, dt * 1e6);
      if (dt >= this.latencyMonitor.thresholdMs) this.latencyMonitor.addCommand(cmd, dt);
      if (dt >= this.slowlog.slowerThanMs) this.slowlog.push(c, cmd, argv, dt, this.monitors);
    }
    this.monitors.clearRedactions();
    this.stats.commandsProcessed++;
  }

  /** Show the command that ran to the monitors, unless it is one Redis keeps from them. */
  private feedMonitors(c: Client, cmd: Command): void {
    if (!(cmd.flags & (CMD.admin | CMD.skip_monitor))) this.monitors.feed(c, c.db.id, this.argv);
  }

  /**
   * A handler threw: a bug, never a client's fault. Log it with the command and answer an
   * error so the connection and every other client carry on (Redis would crash instead).
   */
  private handlerFailed(c: Client, cmd: Command, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    this.log.warning(`Internal error in '${cmd.fullName}' from client id=${c.id} addr=${c.addr}: ${e instanceof Error ? e.stack : message}`);
    this.stats.unexpectedErrorReplies++;
    this.writer.addError(`ERR internal error in '${cmd.fullName}': ${message}`);
  }

  /**
   * A command of the master's stream failed here: the replica has diverged from its
   * master, which Redis logs as critical (afterErrorReply) though the stream goes on.
   */
  private errorToMaster(c: Client, message: string): void {
    this.stats.unexpectedErrorReplies++;
    const name = c.lastCommand?.fullName ?? this.argv.str(0);
    this.log.warning(`== CRITICAL == This replica is sending an error to its master: '${message}' after processing the command '${name}'`);
  }

  /** Whether `enable-debug-command` lets this client run DEBUG (Redis's allowProtectedAction). */
  private protectedAllowed(c: Client): boolean {
    const setting = this.config.enableDebugCommand;
    return setting === "yes" || (setting === "local" && c.isLocal());
  }

  /** Apply CLIENT REPLY: drop the reply when the client asked not to get it. */
  private afterCommand(c: Client, mark: number): void {
    const mode = c.replyMode;
    if (mode === ReplyMode.On) return;
    if (mode === ReplyMode.Off || mode === ReplyMode.Skip) this.writer.len = mark;
    if (mode === ReplyMode.Skip) c.replyMode = ReplyMode.On;
    else if (mode === ReplyMode.SkipNext) c.replyMode = ReplyMode.Skip;
  }

  /**
   * Why the server refuses the command now, in Redis's order: memory, the disk, too few
   * good replicas, a read-only replica, the subscribed context, a master link that is down.
   */
  private refusal(c: Client, cmd: Command, flags: number): string | null {
    // Redis's maxmemory check: evict before every command, and refuse what would take more
    // memory when nothing more can go.
    if (this.eviction.maxmemoryBytes !== 0 && this.eviction.refuses(c, cmd, flags)) return OOM_ERROR;
    // Redis's writeCommandsDeniedByDiskError: a failed save (with stop-writes-on-bgsave-error
    // and save points) or an AOF that cannot be written refuses writes, and PING.
    if ((this.aof !== null || !this.rdb.lastSaveOk) && (flags & CMD.write || cmd === this.pingCommand)) {
      const denied = this.diskErrorDenial();
      if (denied !== null) return denied;
    }
    if (flags & CMD.write) {
      if (this.config.minReplicasToWrite !== 0 && !this.replication.enoughGoodReplicas()) return NOREPLICAS;
      if (this.upstream.isReplica && this.config.replicaReadOnly) return READONLY_REPLICA;
    }
    const subscribedError = subscribedContextError(c, cmd);
    if (subscribedError !== null) return subscribedError;
    if (this.upstream.isReplica && !this.upstream.connected && !this.config.replicaServeStaleData && !(cmd.flags & CMD.stale)) return MASTERDOWN;
    return null;
  }

  /** Why writes are refused because of the disk, or null: the RDB's reason first, as in Redis. */
  private diskErrorDenial(): string | null {
    if (!this.rdb.lastSaveOk && this.config.stopWritesOnBgsaveError && this.config.save.length > 0) return MISCONF_RDB;
    return this.aof === null ? null : this.aof.deniedWritesError();
  }

  /**
   * Refuse a command (Redis's rejectCommand): a transaction being queued will abort, and a
   * refused EXEC discards it at once, naming the reason.
   */
  private reject(c: Client, cmd: Command, message: string): void {
    cmd.rejectedCalls++;
    this.flagTransaction(c);
    if (cmd === this.execCommand) {
      this.discardTransaction(c);
      // Monitors saw MULTI; they see the EXEC that ends it too (Redis's execCommandAbort).
      if (this.monitors.active) this.monitors.feed(c, c.db.id, this.argv);
      return this.writer.addError(`EXECABORT Transaction discarded because of: ${message.startsWith("ERR ") ? message.slice(4) : message}`);
    }
    this.writer.addError(message);
  }

  private rejectUnknown(c: Client): void {
    const argv = this.argv;
    const args: string[] = [];
    for (let i = 1; i < argv.count && i < 64; i++) args.push(argv.str(i));
    this.flagTransaction(c);
    this.writer.addError(unknownCommand(argv.str(0), args));
  }

  /** A command was refused while a transaction is queued: EXEC will answer EXECABORT. */
  private flagTransaction(c: Client): void {
    if (c.multi !== null) c.multi.aborted = true;
  }

  /** Drop the queued transaction and the watched keys (Redis's discardTransaction). */
  discardTransaction(c: Client): void {
    c.multi = null;
    c.dirtyCas = false;
    this.watches.unwatchAll(c);
  }

  /** Queue what the writer holds for the client (see queueWrite); close it if it asked to. */
  private flush(c: Client, w = this.writer): void {
    if (c.socket === null) return;
    if (w.len > 0) {
      this.queueWrite(c, w.bytes());
      w.reset();
    }
    if (c.closeAfterReply && c.pendingLen === 0) this.closeClient(c);
  }

  /**
   * Queue bytes for a client and have them written, with every other client's, once the
   * current turn of the event loop has run its socket events, as Redis writes its clients'
   * buffers before sleeping (handleClientsWithPendingWrites). Writes that leave together
   * cost the kernel fewer wake-ups of the readers on a busy server: with one write per read
   * event, SET under constant eviction measured 0.72x of Redis's throughput at -P 16, with
   * the writes of a turn together 1.0x. The bytes are copied; the caller may reuse them.
   */
  private queueWrite(c: Client, bytes: Uint8Array): void {
    // A client over its output buffer limit gets nothing more while it waits to be closed.
    if (c.closeAsap) return;
    // Output already pending is written when the socket drains; else the client joins the turn's writes.
    if (c.pendingLen === 0) {
      this.writeQueue.push(c);
      if (this.writeQueue.length === 1) setImmediate(this.writeQueued);
    }
    if (c.replica === null) this.stats.netOutputBytes += bytes.length;
    else this.stats.netReplOutputBytes += bytes.length;
    c.queueOutput(bytes);
    this.outputLimits.afterQueued(c);
    if (c.pendingLen > OUTPUT_PAUSE_BYTES && !c.paused) {
      c.paused = true;
      c.socket!.pause();
    }
  }

  /** The end of a turn: write what queueWrite queued. */
  private readonly writeQueued = (): void => {
    const clients = this.writeQueue;
    this.writeQueue = [];
    this.stats.writesProcessed += clients.length;
    for (const c of clients) this.writePending(c);
  };

  /**
   * Send encoded bytes (a pub/sub message, an invalidation, a MONITOR line) to a client that
   * did not ask for them now. The client whose command is running gets them in its place
   * among that command's replies, as Redis appends them to its reply buffer; the others get
   * them with the turn's writes, so that a pipelined burst of PUBLISH reaches each
   * subscriber in one write.
   */
  deliver(c: Client, bytes: Uint8Array): void {
    if (c === this.current) {
      if (this.repliesSilenced(c)) this.writer.len = this.replyMark;
      this.writer.addRaw(bytes);
      this.keepPushes(c);
      return;
    }
    if (c.socket !== null) this.queueWrite(c, bytes);
  }

  /** CLIENT REPLY OFF or SKIP applies to the running command. */
  private repliesSilenced(c: Client): boolean {
    return c.replyMode === ReplyMode.Off || c.replyMode === ReplyMode.Skip;
  }

  /**
   * What the running command wrote so far is pushes (subscribe confirmations, messages to
   * itself), which Redis sends even under CLIENT REPLY OFF or SKIP: keep them, while the
   * command's replies are dropped (deliver drops any written before a push).
   */
  keepPushes(c: Client): void {
    if (c === this.current && this.repliesSilenced(c)) this.replyMark = this.writer.len;
  }

  /** Write what the client has pending, as far as its socket takes it (its drain event). */
  writePending(c: Client): void {
    const s = c.socket;
    if (s === null || c.pendingLen === 0) return;
    const written = s.write(c.pendingBytes());
    if (written < 0) return;
    c.consumeOutput(written);
    if (c.paused && c.pendingLen < OUTPUT_PAUSE_BYTES / 2) {
      c.paused = false;
      s.resume();
    }
    if (c.closeAfterReply && c.pendingLen === 0) this.closeClient(c);
  }

  private startCron(): void {
    if (this.cronTimer !== null) clearInterval(this.cronTimer);
    const periodMs = Math.max(1, Math.floor(1000 / this.config.hz));
    this.cronTimer = setInterval(() => this.cron(), periodMs);
    this.cronTimer.unref?.();
  }

  /** Redis's serverCron: background work done `hz` times a second. */
  private cron(): void {
    this.clock.resync();
    // Redis runs no serverCron while a script is busy: nothing may change the dataset.
    if (this.busyScript !== null) return;
    const now = this.clock.nowMs;
    // A pause keeps the dataset still, so that replicas stay consistent: no active expiry.
    if (this.activeExpiryRuns()) activeExpireCycle(this);
    this.replication.cron(now);
    // Redis's tryResizeHashTables: give back what a shrunken keyspace no longer needs, never
    // under a background save, which reads the table by id.
    for (const db of this.dbs) if (db.snapshot === null && db.table.compactIfSparse()) this.eviction.idsRenumbered(db.table);
    // Active expiry propagates each deletion alone, not as one transaction.
    if (this.propagation.active) this.propagation.flushEach();
    if (this.aof !== null) this.aof.cron();
    saveCron(this, now);
    rewriteCron(this);
    this.stats.opsPerSec.track(this.stats.commandsProcessed, now);
    this.stats.inputKbps.track(this.stats.netInputBytes / 1024, now);
    this.stats.outputKbps.track(this.stats.netOutputBytes / 1024, now);
    this.stats.replInputKbps.track(this.stats.netReplInputBytes / 1024, now);
    this.stats.replOutputKbps.track(this.stats.netReplOutputBytes / 1024, now);
    this.closeTimedOutClients(now);
    this.trackClientPeaks(now);
    this.outputLimits.cron();
    this.collectAfterBurst();
    trackPeakMemory(this);
  }

  /**
   * Every socket read brings a fresh buffer that only a garbage collection frees, and a
   * collection comes from allocation pressure on the JS heap, which the hot path hardly
   * makes: after a bulk load the read buffers of the whole load can stay resident. So once
   * GC_INPUT_BYTES have been read and a cron period passed without a read, collect.
   */
  private collectAfterBurst(): void {
    const reads = this.stats.readsProcessed;
    const idle = reads === this.readsAtLastCron;
    this.readsAtLastCron = reads;
    const input = this.stats.netInputBytes;
    // RESETSTAT zeroes the counter: start counting again from there.
    if (input < this.inputAtLastGc) this.inputAtLastGc = input;
    if (!idle || input - this.inputAtLastGc < GC_INPUT_BYTES) return;
    this.inputAtLastGc = input;
    collectGarbage();
  }

  /**
   * Closed clients leave their buffers to the garbage collector, which JSC may run long
   * after: clients that vanish with megabytes of unread replies (a reader that never
   * reads, a churn of such connections) would pile them up far beyond what Redis, freeing
   * them at once, ever holds. So RELEASED_GC_BYTES of such buffers start a collection, or
   * as many bytes as the heap holds once it is larger, which keeps the time spent collecting
   * in proportion to the garbage collected on a large dataset.
   */
  private collectAfterRelease(bytes: number): void {
    this.releasedSinceGc += bytes;
    if (this.releasedSinceGc < RELEASED_GC_BYTES || this.releasedSinceGc < process.memoryUsage().heapUsed) return;
    this.releasedSinceGc = 0;
    collectGarbage();
  }

  /** INFO client_recent_max_input_buffer and client_recent_max_output_buffer, sampled as Redis's clientsCron does. */
  private trackClientPeaks(nowMs: number): void {
    this.recentClientPeaks.beginPass(nowMs);
    for (const c of this.clients.values()) this.recentClientPeaks.track(c.qlen, outputBytes(c));
  }

  private closeTimedOutClients(nowMs: number): void {
    const timeoutS = this.config.timeout;
    if (timeoutS <= 0) return;
    for (const c of this.clients.values()) {
      // Redis spares blocked clients (a client held by CLIENT PAUSE is one), monitors and
      // subscribers, which wait for the server by design.
      // Nor are the links of replication ever idle clients: a master may stay silent for
      // repl-ping-replica-period, longer than a short timeout.
      if (c.postponed || c.blocked || c.monitor || c.channels?.size || c.patterns?.size || c.shardChannels?.size) continue;
      if (c.isMaster || this.replication.isReplica(c)) continue;
      if (nowMs - c.lastInteractionMs > timeoutS * 1000) {
        this.log.verbose(`Closing idle client`);
        this.closeClient(c);
      }
    }
  }

  // -------------------------------------------------------------------------------------
  // CLIENT PAUSE (Redis's pauseClients, unpauseClients and blockPostponeClient)
  // -------------------------------------------------------------------------------------

  /**
   * Hold commands as `mode` says until `endMs`. A pause under way keeps the stricter mode
   * and the later end of the two, as Redis merges them; an end already past (a timeout of
   * 0, or one that overflowed) leaves no pause behind.
   */
  pauseClients(endMs: number, mode: PauseMode): void {
    if (this.pauseMode !== PauseMode.Off) {
      mode = Math.max(mode, this.pauseMode);
      endMs = Math.max(endMs, this.pauseEndMs);
    }
    this.setPause(mode, endMs);
  }

  /** CLIENT UNPAUSE: end the pause now; the held clients go, in the order they were held. */
  unpauseClients(): void {
    this.setPause(PauseMode.Off, 0);
  }

  /**
   * Whether a pause is under way, ending it first if its time has passed (Redis's
   * checkClientPauseTimeoutAndReturnIfPaused). Expiry asks before deleting keys, because a
   * pause keeps the dataset still.
   */
  clientsPaused(): boolean {
    if (this.pauseMode === PauseMode.Off) return false;
    if (this.pauseEndMs >= this.clock.nowMs) return true;
    this.setPause(PauseMode.Off, 0);
    return false;
  }

  /**
   * Whether the expiry cycles delete keys: not while a pause keeps the dataset still, and
   * not on a replica, whose master sends the deletions.
   */
  private activeExpiryRuns(): boolean {
    return this.activeExpireEnabled && !this.upstream.isReplica && !this.clientsPaused() && this.busyScript === null;
  }

  /** Redis's expireIfNeeded: what a command that finds an expired key does with it. */
  private readonly expiryPolicyHook = (): ExpiryPolicy => {
    if (this.upstream.isReplica) return this.current !== null && this.current.isMaster ? ExpiryPolicy.Keep : ExpiryPolicy.Hide;
    return this.clientsPaused() ? ExpiryPolicy.Hide : ExpiryPolicy.Delete;
  };

  /** Redis's updateClientPauseTypeAndEndTime: a pause whose end is past is none, and a looser one lets the held clients go. */
  private setPause(mode: PauseMode, endMs: number): void {
    if (endMs < this.clock.nowMs) {
      mode = PauseMode.Off;
      endMs = 0;
    }
    const loosened = mode < this.pauseMode;
    this.pauseMode = mode;
    this.pauseEndMs = endMs;
    this.armPauseTimer();
    if (loosened) this.queueResume();
  }

  /** Wake once the pause's end is past (Redis waits for its cron; this is at most a millisecond late). */
  private armPauseTimer(): void {
    if (this.pauseTimer !== null) clearTimeout(this.pauseTimer);
    this.pauseTimer = null;
    if (this.pauseMode === PauseMode.Off) return;
    const delayMs = Math.min(this.pauseEndMs - this.clock.nowMs + 1, MAX_TIMER_MS);
    this.pauseTimer = setTimeout(this.onPauseTimer, Math.max(delayMs, 1));
    this.pauseTimer.unref?.();
  }

  /** The pause timer: end the pause, or wait again when a timer could not wait long enough. */
  private readonly onPauseTimer = (): void => {
    this.pauseTimer = null;
    this.clock.tick();
    if (this.clientsPaused()) this.armPauseTimer();
  };

  /** Redis's processCommand pause check: ALL holds everything, WRITE what may write or replicate. */
  private pauseHolds(flags: number): boolean {
    return this.pauseMode === PauseMode.All || (flags & (CMD.write | CMD.may_replicate)) !== 0;
  }

  /** Hold the client's command until the pause ends; the dispatch loop leaves it unparsed. */
  private postpone(c: Client): void {
    const argv = this.argv;
    let argvBytes = 0;
    for (let i = 0; i < argv.count; i++) argvBytes += argv.len[i]!;
    c.postponed = true;
    c.heldArgvBytes = argvBytes;
    this.postponedClients.add(c);
  }

  /**
   * Run the held clients once the current command and its replies are done (Redis does it
   * before sleeping), never from inside a command, whose arguments and writer are shared.
   */
  private queueResume(): void {
    if (this.resumeQueued || this.postponedClients.size === 0) return;
    this.resumeQueued = true;
    queueMicrotask(this.resumePostponed);
  }

  /**
   * Let every held client go, in the order they were held: each runs its held command and
   * the pipeline behind it, and is held again if a pause still applies (a new one, or a
   * WRITE pause that an ALL pause became).
   */
  private readonly resumePostponed = (): void => {
    this.resumeQueued = false;
    const held = [...this.postponedClients];
    this.postponedClients.clear();
    // The held commands' durations start now, not when they arrived.
    this.clock.tick();
    for (const c of held) {
      c.postponed = false;
      c.postponedQueryBytes = c.heldArgvBytes = 0;
      if (c.socket !== null) this.processQuery(c, c.qbuf!, c.qlen);
    }
  };

  // -------------------------------------------------------------------------------------
  // Blocking commands (see blocking.ts)
  // -------------------------------------------------------------------------------------

  /** The writer for a reply to `c` outside its own command (a served wait, a script that yielded). */
  beginSideReply(c: Client): ReplyWriter {
    const w = this.sideWriter;
    w.reset();
    w.resp = c.resp;
    return w;
  }

  /**
   * Send the side reply, after what the unit propagates (a served client's pop, a script's
   * effects) reached the AOF.
   */
  endSideReply(c: Client): void {
    if (this.propagation.active) this.propagation.flushPending();
    if (this.aof !== null) this.aof.write();
    if (c.replyMode === ReplyMode.Off) this.sideWriter.len = 0;
    this.flush(c, this.sideWriter);
  }

  /** Run what `c` received while it waited (behind a blocking command or a busy script). */
  resumeInput(c: Client): void {
    this.unblockedClients.push(c);
    if (this.unblockedClients.length === 1) queueMicrotask(this.processUnblocked);
  }

  /** The busy script ended: the master's stream held meanwhile runs, and keys it wrote serve their waiters. */
  busyScriptEnded(): void {
    for (const c of this.clients.values()) if (c.isMaster && c.qlen > 0) this.resumeInput(c);
    if (this.blocking.hasReadyKeys) this.blocking.serveReadyKeys();
  }

  private blockingHost(): BlockingHost {
    return {
      beginSideReply: (c) => this.beginSideReply(c),
      endSideReply: (c) => this.endSideReply(c),
      // The call was counted when it blocked, as Redis 7.0 counts it (its time in countUnblocked).
      waitEnded: (c) => this.resumeInput(c),
      countUnblocked: (c, call, replyMs, byRequest) => this.countUnblocked(c, call, replyMs, byRequest),
      nowMs: () => this.clock.nowMs,
    };
  }

  /**
   * A blocked command's wait was served or ended by CLIENT UNBLOCK (Redis 7.0's
   * updateStatsOnUnblock): its time before blocking plus the time to answer it is added to
   * its usec (again: the part before blocking was counted when it blocked), its latency
   * histogram and the slow log. CLIENT UNBLOCK drops the arguments first, so Redis logs that
   * entry with none, and counts the call as failed even when it answers the timeout reply.
   */
  private countUnblocked(c: Client, call: BlockedCall, replyMs: number, byRequest: boolean): void {
    const cmd = call.cmd;
    const durationMs = call.durationMs + replyMs;
    cmd.usec += durationMs * 1000;
    if (byRequest) cmd.failedCalls++;
    if (this.latencyTracking) recordCommandLatency(cmd, durationMs * 1e6);
    if (durationMs >= this.slowlog.slowerThanMs) this.slowlog.add(c, byRequest ? [] : call.args, durationMs);
    this.latencyMonitor.addIfNeeded("command-unblocking", Math.floor(replyMs));
  }

  /**
   * Run what clients whose wait ended pipelined behind their blocking command (Redis's
   * processUnblockedClients), outside any other client's command.
   */
  private readonly processUnblocked = (): void => {
    const clients = this.unblockedClients;
    this.unblockedClients = [];
    this.clock.tick();
    for (const c of clients) {
      if (c.socket === null || c.blocked || c.postponed || c.qlen === 0) continue;
      this.processQuery(c, c.qbuf!, c.qlen);
    }
  };

  // -------------------------------------------------------------------------------------
  // Propagation and the AOF
  // -------------------------------------------------------------------------------------

  /** Start-up with `appendonly yes`, after loading: open (or create) the AOF and propagate to it. */
  openAofOnStart(): void {
    const aof = new Aof(this);
    aof.openOnStart();
    this.attachAof(aof);
  }

  /** CONFIG SET appendonly: start with a rewrite, or stop (Redis's startAppendOnly/stopAppendOnly). */
  private applyAppendonly(): string | void {
    if (this.config.appendonly === (this.aof !== null)) return;
    if (!this.config.appendonly) {
      // Redis's stopAppendOnly kills a rewrite under way.
      this.aofRewrite?.abort();
      this.detachAof();
      return;
    }
    const aof = new Aof(this);
    try {
      aof.openWaitingForRewrite();
    } catch (e) {
      this.log.warning(`Can't open the append-only file: ${(e as Error).message}`);
      return "Unable to turn on AOF. Check server logs.";
    }
    this.attachAof(aof);
    // The base comes from a background rewrite; until it is done commands go to a temporary file.
    if (this.rdb.bgsave !== null) {
      aofStatus(this).rewriteScheduled = true;
      this.log.warning("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
      return;
    }
    if (this.aofRewrite !== null) {
      this.log.warning("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.");
      this.aofRewrite.abort();
    }
    this.aofRewrite = BackgroundRewrite.start(this);
    if (this.aofRewrite === null) {
      this.detachAof();
      this.log.warning("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
      return "Unable to turn on AOF. Check server logs.";
    }
  }

  private detachAof(): void {
    this.aof!.stop();
    this.propagation.removeSink(this.aof!);
    this.aof = null;
    this.setExpiredHooks();
  }

  private attachAof(aof: Aof): void {
    this.aof = aof;
    this.propagation.addSink(aof);
    this.setExpiredHooks();
  }

  /**
   * Keys removed by expiry propagate as DEL (UNLINK with lazyfree-lazy-expire) while anything
   * listens; called again whenever a sink comes or goes.
   */
  setExpiredHooks(): void {
    const hook = this.propagation.active ? this.propagateExpired : null;
    for (const db of this.dbs) db.expiredHook = hook;
  }

  /**
   * An expiry's deletion joins the unit under way: a command that found the key expired
   * propagates in MULTI/EXEC with it, as Redis 7.0 does; the cron sends its own one by one.
   */
  private readonly propagateExpired = (db: Db, key: string): void => {
    this.propagation.add(db.id, [this.config.lazyfreeLazyExpire ? "UNLINK" : "DEL", key]);
  };

  /** CONFIG RESETSTAT: zero INFO's counters, command stats and error stats. */
  resetStats(): void {
    this.stats.reset();
    const ks = this.keyspaceStats;
    ks.hits = ks.misses = ks.expiredKeys = ks.evictedKeys = ks.expiredTimeCapReachedCount = 0;
    ks.expiredStalePerc = 0;
    for (const cmd of this.commands.all()) cmd.resetStats();
  }

  /**
   * Stop listening, disconnect everyone, and release every timer, file and connection the
   * server holds, so that an embedded server's process can exit once it closed.
   */
  close(): void {
    if (this.cronTimer !== null) clearInterval(this.cronTimer);
    this.cronTimer = null;
    if (this.pauseTimer !== null) clearTimeout(this.pauseTimer);
    this.pauseTimer = null;
    this.pendingShutdown?.cancelTimer();
    this.pendingShutdown = null;
    this.upstream.close();
    this.cluster?.bus.stop();
    this.rdb.bgsave?.abort();
    this.aofRewrite?.abort();
    if (this.aof !== null) this.detachAof();
    closeMigrateLinks(this);
    if (this.listeners.close()) this.log.notice("Removing the unix socket file.");
    for (const c of [...this.clients.values()]) this.closeClient(c);
  }

  /**
   * SHUTDOWN or a signal: unless `now`, first let lagging replicas catch up (see
   * shutdown.ts; `caller` is the SHUTDOWN client, held meanwhile), then finish.
   */
  shutdown(exitCode = 0, finalSave: (() => boolean) | null = null, now = false, caller: Client | null = null): ShutdownOutcome {
    if (this.shuttingDown) return ShutdownOutcome.Failed;
    const pending = this.pendingShutdown;
    if (pending !== null) {
      // A later SHUTDOWN joins the wait, or ends it at once with NOW.
      if (now) return this.finishPendingShutdown(exitCode, finalSave);
      if (caller !== null) pending.hold(caller, (c, wait) => this.blocking.block(c, wait));
      return ShutdownOutcome.Waiting;
    }
    this.log.warning("User requested shutdown...");
    if (!now && this.config.shutdownTimeout !== 0 && !this.replication.allCaughtUp()) {
      this.replication.sendGetAck();
      this.pauseClients(Number.MAX_SAFE_INTEGER, PauseMode.Write);
      this.log.notice("Waiting for replicas before shutting down.");
      const wait = new PendingShutdown(exitCode, finalSave, this.config.shutdownTimeout * 1000, () => this.finishPendingShutdown());
      this.pendingShutdown = wait;
      if (caller !== null) wait.hold(caller, (c, w) => this.blocking.block(c, w));
      return ShutdownOutcome.Waiting;
    }
    return this.finishShutdown(exitCode, finalSave) ? ShutdownOutcome.Done : ShutdownOutcome.Failed;
  }

  /** Keys held by an in-flight command are released: the commands that waited for them run. */
  releaseKeys(db: Db, keys: readonly Uint8Array[]): void {
    this.keyHolds.release(db, keys);
    this.queueResume();
  }

  /** A replica acknowledged: a shutdown waiting for the replicas may go on now. */
  replicaAcked(): void {
    if (this.pendingShutdown !== null && this.replication.allCaughtUp()) this.finishPendingShutdown();
  }

  /** The wait for the replicas is over (they caught up, time ran out, or SHUTDOWN NOW). */
  private finishPendingShutdown(exitCode?: number, finalSave?: (() => boolean) | null): ShutdownOutcome {
    const pending = this.pendingShutdown!;
    this.pendingShutdown = null;
    pending.cancelTimer();
    if (this.finishShutdown(exitCode ?? pending.exitCode, finalSave !== undefined ? finalSave : pending.finalSave)) return ShutdownOutcome.Done;
    this.unpauseClients();
    pending.answerFailure((c, wait) => this.blocking.serveWait(c, wait));
    return ShutdownOutcome.Failed;
  }

  /** SHUTDOWN ABORT: the wait for the replicas ends and the server goes on; false when none runs. */
  abortShutdown(): boolean {
    const pending = this.pendingShutdown;
    if (pending === null) return false;
    this.pendingShutdown = null;
    pending.cancelTimer();
    this.unpauseClients();
    pending.answerFailure((c, wait) => this.blocking.serveWait(c, wait));
    this.log.warning("Shutdown manually aborted.");
    return true;
  }

  /** Redis's finishShutdown: save, close, and let main exit; false when the final save failed. */
  private finishShutdown(exitCode: number, finalSave: (() => boolean) | null): boolean {
    this.shuttingDown = true;
    this.replication.logLaggingReplicas();
    if (this.rdb.bgsave !== null) {
      this.log.warning("There is a child saving an .rdb. Killing it!");
      this.rdb.bgsave.abort();
    }
    if (this.aofRewrite !== null) {
      this.log.warning("There is a child rewriting the AOF. Killing it!");
      this.aofRewrite.abort();
    }
    if (this.aof !== null) {
      this.log.notice("Calling fsync() on the AOF file.");
      this.aof.sync();
    }
    if (finalSave !== null && !finalSave()) {
      // The server stays up, as Redis's cancelShutdown leaves it.
      this.log.warning("Errors trying to shut down the server. Check the logs for more information.");
      this.shuttingDown = false;
      return false;
    }
    this.aof?.stop();
    // What the replicas are still owed leaves before the connections close (flushSlavesOutputBuffers).
    for (const c of this.replication.replicas) this.writePending(c);
    this.close();
    this.log.warning("redbun is now ready to exit, bye bye...");
    this.onShutdown?.(exitCode);
    return true;
  }
}
