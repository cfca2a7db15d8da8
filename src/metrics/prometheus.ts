// A Prometheus endpoint (`metrics-port`, off by default): GET /metrics answers with the INFO
// figures in Prometheus's text format (version 0.0.4), under the metric names and labels
// oliver006/redis_exporter gives them, so its dashboards and alerts work unchanged.
//
// Every figure is read from the INFO sections (info.ts), never computed a second time, so
// a scrape and INFO cannot disagree. A scrape costs one `INFO everything`: it runs on the
// event loop between commands and takes well under a millisecond.

import { transport, type HttpListener } from "../transport/index.ts";
import { strerror } from "../config/params.ts";
import type { Server } from "../server/server.ts";
import { infoSectionLines } from "./info.ts";

type MetricType = "gauge" | "counter" | "summary";

/** An INFO field shown as a metric: its name after `redis_`, its type and its help text. */
type FieldMetric = [metric: string, type: MetricType, help: string];

const g = (metric: string, help: string): FieldMetric => [metric, "gauge", help];
const c = (metric: string, help: string): FieldMetric => [metric, "counter", help];

/** INFO fields with a plain numeric value (or ok/err status) and the metric each becomes. */
const FIELD_METRICS: ReadonlyMap<string, FieldMetric> = new Map([
  // Server
  ["uptime_in_seconds", g("uptime_in_seconds", "Seconds since the server started.")],
  ["process_id", g("process_id", "The server's process id.")],
  ["io_threads_active", g("io_threads_active", "1 while I/O threads are active.")],
  // Clients
  ["connected_clients", g("connected_clients", "Client connections, replicas excluded.")],
  ["blocked_clients", g("blocked_clients", "Clients waiting in a blocking command or held by CLIENT PAUSE.")],
  ["tracking_clients", g("tracking_clients", "Clients with client-side caching on.")],
  ["clients_in_timeout_table", g("clients_in_timeout_table", "Blocked clients with a timeout.")],
  ["maxclients", g("max_clients", "The maxclients setting.")],
  ["client_recent_max_input_buffer", g("client_recent_max_input_buffer_bytes", "Largest client query buffer.")],
  ["client_recent_max_output_buffer", g("client_recent_max_output_buffer_bytes", "Largest client output buffer.")],
  // Memory
  ["used_memory", g("memory_used_bytes", "Bytes the server holds for data and its own structures.")],
  ["used_memory_rss", g("memory_used_rss_bytes", "Resident set size of the process.")],
  ["used_memory_peak", g("memory_used_peak_bytes", "Peak of used_memory.")],
  ["used_memory_overhead", g("memory_used_overhead_bytes", "Memory used for the server's own structures.")],
  ["used_memory_startup", g("memory_used_startup_bytes", "Memory in use at start-up.")],
  ["used_memory_dataset", g("memory_used_dataset_bytes", "Memory used by the dataset.")],
  ["used_memory_lua", g("memory_used_lua_bytes", "Memory used by the Lua engine.")],
  ["used_memory_vm_eval", g("memory_used_vm_eval_bytes", "Memory used by the EVAL engine.")],
  ["used_memory_scripts_eval", g("memory_used_scripts_eval_bytes", "Memory used by EVAL scripts.")],
  ["used_memory_vm_functions", g("memory_used_vm_functions_bytes", "Memory used by the functions engine.")],
  ["used_memory_functions", g("memory_used_functions_bytes", "Memory used by functions.")],
  ["used_memory_scripts", g("memory_used_scripts_bytes", "Memory used by scripts and functions.")],
  ["number_of_cached_scripts", g("number_of_cached_scripts", "Scripts cached by EVAL and SCRIPT LOAD.")],
  ["number_of_functions", g("number_of_functions", "Functions loaded.")],
  ["number_of_libraries", g("number_of_libraries", "Function libraries loaded.")],
  ["maxmemory", g("memory_max_bytes", "The maxmemory setting.")],
  ["total_system_memory", g("total_system_memory_bytes", "Memory of the host.")],
  ["allocator_allocated", g("allocator_allocated_bytes", "Bytes allocated by the allocator.")],
  ["allocator_active", g("allocator_active_bytes", "Bytes in the allocator's active pages.")],
  ["allocator_resident", g("allocator_resident_bytes", "Bytes resident in the allocator.")],
  ["allocator_frag_ratio", g("allocator_frag_ratio", "allocator_active / allocator_allocated.")],
  ["allocator_frag_bytes", g("allocator_frag_bytes", "allocator_active - allocator_allocated.")],
  ["allocator_rss_ratio", g("allocator_rss_ratio", "allocator_resident / allocator_active.")],
  ["allocator_rss_bytes", g("allocator_rss_bytes", "allocator_resident - allocator_active.")],
  ["rss_overhead_ratio", g("rss_overhead_ratio", "used_memory_rss / allocator_resident.")],
  ["rss_overhead_bytes", g("rss_overhead_bytes", "used_memory_rss - allocator_resident.")],
  ["mem_fragmentation_ratio", g("mem_fragmentation_ratio", "used_memory_rss / used_memory.")],
  ["mem_fragmentation_bytes", g("mem_fragmentation_bytes", "used_memory_rss - used_memory.")],
  ["mem_not_counted_for_evict", g("mem_not_counted_for_eviction_bytes", "Memory eviction does not count.")],
  ["mem_clients_slaves", g("mem_clients_slaves", "Memory used by replica connections.")],
  ["mem_clients_normal", g("mem_clients_normal", "Memory used by client connections.")],
  ["mem_aof_buffer", g("mem_aof_buffer", "Memory used by the AOF buffer.")],
  ["active_defrag_running", g("active_defrag_running", "1 while active defragmentation runs.")],
  ["lazyfree_pending_objects", g("lazyfree_pending_objects", "Objects waiting to be freed in the background.")],
  // Persistence
  ["loading", g("loading_dump_file", "1 while a dump file is loading.")],
  ["async_loading", g("async_loading", "1 while loading asynchronously.")],
  ["rdb_changes_since_last_save", g("rdb_changes_since_last_save", "Writes since the last save.")],
  ["rdb_bgsave_in_progress", g("rdb_bgsave_in_progress", "1 while a BGSAVE runs.")],
  ["rdb_last_save_time", g("rdb_last_save_timestamp_seconds", "Unix time of the last successful save.")],
  ["rdb_last_bgsave_status", g("rdb_last_bgsave_status", "1 when the last BGSAVE succeeded.")],
  ["rdb_last_bgsave_time_sec", g("rdb_last_bgsave_duration_sec", "Duration of the last BGSAVE.")],
  ["rdb_current_bgsave_time_sec", g("rdb_current_bgsave_duration_sec", "Duration of the BGSAVE under way, or -1.")],
  ["rdb_saves", c("rdb_saves_total", "Saves since start-up.")],
  ["rdb_last_cow_size", g("rdb_last_cow_size_bytes", "Copy-on-write memory of the last save.")],
  ["rdb_last_load_keys_expired", g("rdb_last_load_keys_expired", "Keys found expired by the last load.")],
  ["rdb_last_load_keys_loaded", g("rdb_last_load_keys_loaded", "Keys loaded by the last load.")],
  ["aof_enabled", g("aof_enabled", "1 when appendonly is on.")],
  ["aof_rewrite_in_progress", g("aof_rewrite_in_progress", "1 while an AOF rewrite runs.")],
  ["aof_rewrite_scheduled", g("aof_rewrite_scheduled", "1 when an AOF rewrite waits for a BGSAVE.")],
  ["aof_last_rewrite_time_sec", g("aof_last_rewrite_duration_sec", "Duration of the last AOF rewrite.")],
  ["aof_current_rewrite_time_sec", g("aof_current_rewrite_duration_sec", "Duration of the AOF rewrite under way, or -1.")],
  ["aof_last_bgrewrite_status", g("aof_last_bgrewrite_status", "1 when the last AOF rewrite succeeded.")],
  ["aof_last_write_status", g("aof_last_write_status", "1 when the last AOF write succeeded.")],
  ["aof_last_cow_size", g("aof_last_cow_size_bytes", "Copy-on-write memory of the last AOF rewrite.")],
  ["aof_current_size", g("aof_current_size_bytes", "Size of the AOF.")],
  ["aof_base_size", g("aof_base_size_bytes", "Size of the AOF at the last rewrite.")],
  ["aof_pending_rewrite", g("aof_pending_rewrite", "1 when an AOF rewrite is pending.")],
  ["aof_buffer_length", g("aof_buffer_length", "Bytes in the AOF buffer.")],
  ["aof_pending_bio_fsync", g("aof_pending_bio_fsync", "fsyncs waiting in the background queue.")],
  ["aof_delayed_fsync", g("aof_delayed_fsync", "fsyncs delayed so far.")],
  ["module_fork_in_progress", g("module_fork_in_progress", "1 while a module fork runs.")],
  ["module_fork_last_cow_size", g("module_fork_last_cow_size", "Copy-on-write memory of the last module fork.")],
  // Stats
  ["total_connections_received", c("connections_received_total", "Connections accepted.")],
  ["total_commands_processed", c("commands_processed_total", "Commands processed.")],
  ["instantaneous_ops_per_sec", g("instantaneous_ops_per_sec", "Commands per second, sampled.")],
  ["total_net_input_bytes", c("net_input_bytes_total", "Bytes read from the network.")],
  ["total_net_output_bytes", c("net_output_bytes_total", "Bytes written to the network.")],
  ["total_net_repl_input_bytes", c("net_repl_input_bytes_total", "Bytes read for replication.")],
  ["total_net_repl_output_bytes", c("net_repl_output_bytes_total", "Bytes written for replication.")],
  ["instantaneous_input_kbps", g("instantaneous_input_kbps", "Network input, KB per second, sampled.")],
  ["instantaneous_output_kbps", g("instantaneous_output_kbps", "Network output, KB per second, sampled.")],
  ["rejected_connections", c("rejected_connections_total", "Connections refused over maxclients.")],
  ["sync_full", g("replica_resyncs_full", "Full resynchronisations with replicas.")],
  ["sync_partial_ok", g("replica_partial_resync_accepted", "Partial resynchronisations accepted.")],
  ["sync_partial_err", g("replica_partial_resync_denied", "Partial resynchronisations refused.")],
  ["expired_keys", c("expired_keys_total", "Keys removed because they expired.")],
  ["expired_stale_perc", g("expired_stale_percentage", "Estimated share of keys that are expired but not yet removed.")],
  ["expired_time_cap_reached_count", c("expired_time_cap_reached_total", "Active expiry cycles stopped by their time limit.")],
  ["expire_cycle_cpu_milliseconds", c("expire_cycle_cpu_time_ms_total", "CPU time spent in active expiry.")],
  ["evicted_keys", c("evicted_keys_total", "Keys evicted under maxmemory.")],
  ["evicted_clients", c("evicted_clients_total", "Clients evicted under maxmemory-clients.")],
  ["total_eviction_exceeded_time", c("eviction_exceeded_time_ms_total", "Milliseconds used_memory spent over maxmemory.")],
  ["current_eviction_exceeded_time", g("current_eviction_exceeded_time_ms", "Milliseconds used_memory has been over maxmemory.")],
  ["keyspace_hits", c("keyspace_hits_total", "Successful key lookups.")],
  ["keyspace_misses", c("keyspace_misses_total", "Failed key lookups.")],
  ["pubsub_channels", g("pubsub_channels", "Channels with subscribers.")],
  ["pubsub_patterns", g("pubsub_patterns", "Patterns with subscribers.")],
  ["pubsubshard_channels", g("pubsubshard_channels", "Shard channels with subscribers.")],
  ["latest_fork_usec", g("latest_fork_usec", "Duration of the latest fork.")],
  ["total_forks", c("forks_total", "Forks since start-up.")],
  ["migrate_cached_sockets", g("migrate_cached_sockets_total", "Sockets kept open for MIGRATE.")],
  ["slave_expires_tracked_keys", g("slave_expires_tracked_keys", "Keys tracked for expiry on a writable replica.")],
  ["active_defrag_hits", c("defrag_hits", "Values moved by active defragmentation.")],
  ["active_defrag_misses", c("defrag_misses", "Values active defragmentation left in place.")],
  ["active_defrag_key_hits", c("defrag_key_hits", "Keys defragmented.")],
  ["active_defrag_key_misses", c("defrag_key_misses", "Keys defragmentation skipped.")],
  ["tracking_total_keys", g("tracking_total_keys", "Keys tracked for client-side caching.")],
  ["tracking_total_items", g("tracking_total_items", "Client ids tracked for client-side caching.")],
  ["tracking_total_prefixes", g("tracking_total_prefixes", "Prefixes tracked in broadcast mode.")],
  ["unexpected_error_replies", c("unexpected_error_replies", "Errors replied from unexpected places (AOF load, replication).")],
  ["total_error_replies", c("total_error_replies", "Error replies sent.")],
  ["dump_payload_sanitizations", c("dump_payload_sanitizations", "Deep checks of RESTORE payloads.")],
  ["total_reads_processed", c("total_reads_processed", "Read events processed.")],
  ["total_writes_processed", c("total_writes_processed", "Write events processed.")],
  ["io_threaded_reads_processed", c("io_threaded_reads_processed", "Reads done by I/O threads.")],
  ["io_threaded_writes_processed", c("io_threaded_writes_processed", "Writes done by I/O threads.")],
  // Replication
  ["connected_slaves", g("connected_slaves", "Replicas connected.")],
  ["master_repl_offset", g("master_repl_offset", "The replication offset.")],
  ["second_repl_offset", g("second_repl_offset", "The offset up to which the previous replication id is valid.")],
  ["repl_backlog_active", g("repl_backlog_is_active", "1 when the replication backlog is on.")],
  ["repl_backlog_size", g("replication_backlog_bytes", "Size of the replication backlog.")],
  ["repl_backlog_first_byte_offset", g("repl_backlog_first_byte_offset", "Offset of the backlog's first byte.")],
  ["repl_backlog_histlen", g("repl_backlog_history_bytes", "Bytes of data in the backlog.")],
  // CPU
  ["used_cpu_sys", c("cpu_sys_seconds_total", "System CPU time.")],
  ["used_cpu_user", c("cpu_user_seconds_total", "User CPU time.")],
  ["used_cpu_sys_children", c("cpu_sys_children_seconds_total", "System CPU time of child processes.")],
  ["used_cpu_user_children", c("cpu_user_children_seconds_total", "User CPU time of child processes.")],
  ["used_cpu_sys_main_thread", c("cpu_sys_main_thread_seconds_total", "System CPU time of the main thread.")],
  ["used_cpu_user_main_thread", c("cpu_user_main_thread_seconds_total", "User CPU time of the main thread.")],
  // Cluster
  ["cluster_enabled", g("cluster_enabled", "1 when cluster mode is on.")],
]);

/** Server-section fields redis_exporter copies onto redis_instance_info as labels. */
const INSTANCE_LABELS = ["redis_version", "redis_build_id", "redis_mode", "os", "tcp_port", "executable", "config_file", "run_id", "process_id"];

/** One metric family: its HELP and TYPE lines are written once, before all its samples. */
interface Family {
  readonly help: string;
  readonly type: MetricType;
  samples: string;
}

/** Collects samples by family, in first-seen order, and writes the text format. */
class Exposition {
  private readonly families = new Map<string, Family>();

  add(name: string, type: MetricType, help: string, value: number, labels = ""): void {
    const full = `redis_${name}`;
    let family = this.families.get(full);
    if (family === undefined) {
      family = { help, type, samples: "" };
      this.families.set(full, family);
    }
    family.samples += `${full}${labels === "" ? "" : `{${labels}}`} ${formatValue(value)}\n`;
  }

  /** A summary: its quantiles, then `_sum` and `_count`, in one family. */
  addSummary(name: string, help: string, quantiles: readonly [string, number][], sum: number, count: number, labels: string): void {
    for (const [q, v] of quantiles) this.add(name, "summary", help, v, `${labels},${label("quantile", q)}`);
    const family = this.families.get(`redis_${name}`);
    if (family === undefined) return;
    family.samples += `redis_${name}_sum{${labels}} ${formatValue(sum)}\nredis_${name}_count{${labels}} ${formatValue(count)}\n`;
  }

  text(): string {
    let out = "";
    for (const [name, f] of this.families) out += `# HELP ${name} ${f.help}\n# TYPE ${name} ${f.type}\n${f.samples}`;
    return out;
  }
}

/** Prometheus's float spelling: NaN, +Inf and -Inf are words. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  return String(v);
}

/** A label pair with its value escaped as the text format requires (\\, \" and \n). */
function label(name: string, value: string): string {
  return `${name}="${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

/** `field:value` lines as a map; Redis's INFO never repeats a field within a reply. */
function fieldsOf(lines: readonly string[], into: Map<string, string>): void {
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) into.set(line.slice(0, colon), line.slice(colon + 1));
  }
}

/** `k1=v1,k2=v2` (commandstats, keyspace, errorstats values) as a map. */
function subfields(value: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) m.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return m;
}

/** A numeric INFO value; status words read as 1 for ok and 0 otherwise, as the exporter does. */
function numericValue(field: string, value: string): number | null {
  if (field.endsWith("_status")) return value === "ok" ? 1 : 0;
  const n = Number(value);
  return value === "" || Number.isNaN(n) ? null : n;
}

/** The whole /metrics body for the server as it is now. */
export function metricsText(server: Server): string {
  const sections = infoSectionLines(server);
  const fields = new Map<string, string>();
  for (const name of ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "cluster"]) {
    fieldsOf(sections.get(name) ?? [], fields);
  }
  const out = new Exposition();
  out.add("up", "gauge", "1 when the server answers.", 1);
  addInstanceInfo(out, fields);
  const uptimeS = Number(fields.get("uptime_in_seconds") ?? 0);
  out.add("start_time_seconds", "gauge", "Unix time the server started.", Math.floor(Date.now() / 1000) - uptimeS);
  for (const [field, value] of fields) {
    const metric = FIELD_METRICS.get(field);
    if (metric === undefined) continue;
    const n = numericValue(field, value);
    if (n !== null) out.add(metric[0], metric[1], metric[2], n);
  }
  addCommandStats(out, sections.get("commandstats") ?? []);
  addErrorStats(out, sections.get("errorstats") ?? []);
  addLatencyStats(out, sections.get("latencystats") ?? [], sections.get("commandstats") ?? []);
  addKeyspace(out, sections.get("keyspace") ?? [], server.dbs.length);
  return out.text();
}

function addInstanceInfo(out: Exposition, fields: ReadonlyMap<string, string>): void {
  const labels = INSTANCE_LABELS.map((f) => label(f, fields.get(f) ?? ""));
  labels.push(label("role", fields.get("role") ?? ""));
  labels.push(label("maxmemory_policy", fields.get("maxmemory_policy") ?? ""));
  out.add("instance_info", "gauge", "Information about the instance, as labels.", 1, labels.join(","));
}

/** `cmdstat_get:calls=2,usec=9,...` lines as per-command counters labelled cmd="get". */
function addCommandStats(out: Exposition, lines: readonly string[]): void {
  for (const line of lines) {
    const colon = line.indexOf(":");
    const cmd = label("cmd", line.slice("cmdstat_".length, colon));
    const stats = subfields(line.slice(colon + 1));
    out.add("commands_total", "counter", "Calls per command.", Number(stats.get("calls")), cmd);
    out.add("commands_duration_seconds_total", "counter", "Time spent per command.", Number(stats.get("usec")) / 1e6, cmd);
    out.add("commands_rejected_calls_total", "counter", "Calls refused before running, per command.", Number(stats.get("rejected_calls")), cmd);
    out.add("commands_failed_calls_total", "counter", "Calls that failed while running, per command.", Number(stats.get("failed_calls")), cmd);
  }
}

/**
 * `latency_percentiles_usec_get:p50=1.003,p99=...` lines as redis_exporter's summary
 * redis_latency_percentiles_usec{cmd="get",quantile="50"}, with the command's usec and calls
 * from commandstats as its _sum and _count.
 */
function addLatencyStats(out: Exposition, lines: readonly string[], commandLines: readonly string[]): void {
  const totals = new Map<string, Map<string, string>>();
  for (const line of commandLines) {
    const colon = line.indexOf(":");
    totals.set(line.slice("cmdstat_".length, colon), subfields(line.slice(colon + 1)));
  }
  for (const line of lines) {
    const colon = line.indexOf(":");
    const cmd = line.slice("latency_percentiles_usec_".length, colon);
    const quantiles: [string, number][] = [];
    for (const [p, v] of subfields(line.slice(colon + 1))) quantiles.push([p.slice(1), Number(v)]);
    const stats = totals.get(cmd);
    out.addSummary("latency_percentiles_usec", "Latency percentiles per command, in microseconds.", quantiles, Number(stats?.get("usec") ?? 0), Number(stats?.get("calls") ?? 0), label("cmd", cmd));
  }
}

/** `errorstat_ERR:count=3` lines as redis_errors_total{err="ERR"}. */
function addErrorStats(out: Exposition, lines: readonly string[]): void {
  for (const line of lines) {
    const colon = line.indexOf(":");
    const err = label("err", line.slice("errorstat_".length, colon));
    out.add("errors_total", "counter", "Error replies per error code.", Number(subfields(line.slice(colon + 1)).get("count")), err);
  }
}

/**
 * `db0:keys=1,expires=0,avg_ttl=0` lines as per-db gauges. INFO leaves out empty databases;
 * the exporter reports them as 0 so that a flushed database reads 0 rather than vanishing.
 */
function addKeyspace(out: Exposition, lines: readonly string[], databases: number): void {
  const byDb = new Map<string, Map<string, string>>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    byDb.set(line.slice(0, colon), subfields(line.slice(colon + 1)));
  }
  for (let i = 0; i < databases; i++) {
    const db = `db${i}`;
    const stats = byDb.get(db);
    const labels = label("db", db);
    out.add("db_keys", "gauge", "Keys per database.", Number(stats?.get("keys") ?? 0), labels);
    out.add("db_keys_expiring", "gauge", "Keys with an expiry per database.", Number(stats?.get("expires") ?? 0), labels);
    if (stats !== undefined) {
      out.add("db_avg_ttl_seconds", "gauge", "Average time to live of expiring keys per database.", Number(stats.get("avg_ttl")) / 1000, labels);
    }
  }
}

// ---------------------------------------------------------------------------------------
// The HTTP listener.

const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The endpoint's HTTP server, opened, moved and closed as metrics-port and metrics-bind change. */
export class MetricsEndpoint {
  private http: HttpListener | null = null;
  /** Where `http` listens: kept here to reopen it when a move fails. */
  private hostname = "";

  constructor(private readonly server: Server) {
    server.config.onChange(["metrics-port", "metrics-bind"], () => this.apply() ?? undefined);
  }

  /** The port the endpoint listens on, or 0 while it is closed. */
  get port(): number {
    return this.http?.port ?? 0;
  }

  /**
   * Opens, moves or closes the listener to match the config. Returns an error text when the
   * new address cannot be bound, leaving the previous listener as it was.
   */
  apply(): string | null {
    const { metricsPort: port, metricsBind: hostname } = this.server.config;
    if (port === 0) {
      this.close();
      return null;
    }
    const previous = this.http === null ? null : { http: this.http, hostname: this.hostname, port: this.port };
    if (previous !== null && previous.port === port && previous.hostname === hostname) return null;
    // A listener on the same port would collide with the new one, so it goes first.
    if (previous !== null && previous.port === port) this.close();
    const err = this.open(hostname, port);
    if (err !== null) {
      if (previous !== null && this.http === null) this.open(previous.hostname, previous.port);
      return err;
    }
    if (previous !== null && previous.http !== this.http) previous.http.stop(true);
    return null;
  }

  close(): void {
    this.http?.stop(true);
    this.http = null;
  }

  /** Starts listening; on failure `http` is left as it was and the reason returned. */
  private open(hostname: string, port: number): string | null {
    try {
      this.http = transport.serveHttp({ hostname, port, fetch: (req) => this.answer(req) });
      this.hostname = hostname;
      // Under Node the bind finishes later: a failure can only be logged then.
      this.http.ready?.catch((e) => this.server.log.warning(listenFailure(hostname, port, e)));
      return null;
    } catch (e) {
      return listenFailure(hostname, port, e);
    }
  }

  private answer(req: Request): Response {
    const path = new URL(req.url).pathname;
    if (path !== "/metrics") return new Response("Not Found\n", { status: 404 });
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("Method Not Allowed\n", { status: 405, headers: { Allow: "GET, HEAD" } });
    }
    return new Response(metricsText(this.server), { headers: { "Content-Type": CONTENT_TYPE } });
  }
}

function listenFailure(hostname: string, port: number, e: unknown): string {
  return `Unable to listen on metrics port ${hostname}:${port}: ${strerror((e as NodeJS.ErrnoException).code)}`;
}
