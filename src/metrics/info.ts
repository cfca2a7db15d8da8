// INFO's text (Redis's genRedisInfoString): the sections and field names of Redis 7.0, so
// that dashboards and exporters that parse INFO keep working.

import { aofEnabledInfoLines, aofInfoLines } from "../persistence/aof.ts";
import { totalmem, release, arch } from "node:os";
import type { Server } from "../server/server.ts";
import { REDIS_VERSION } from "../version.ts";
import { lruClock } from "../store/object.ts";
import { formatBytesHuman } from "../util/human.ts";
import { ALLOCATOR_NAME, memoryOverhead, notCountedForEviction } from "../cache/memory.ts";
import { latencyStatsLines } from "./latency.ts";
import { unixSecondsBetween } from "../util/timer.ts";

type Section = (s: Server) => string[];

/** Sections in Redis's order; `all` and `everything` add commandstats and latencystats. */
const SECTIONS: [name: string, title: string, build: Section, inDefault: boolean][] = [
  ["server", "Server", serverSection, true],
  ["clients", "Clients", clientsSection, true],
  ["memory", "Memory", memorySection, true],
  ["persistence", "Persistence", persistenceSection, true],
  ["stats", "Stats", statsSection, true],
  ["replication", "Replication", replicationSection, true],
  ["cpu", "CPU", cpuSection, true],
  ["modules", "Modules", () => [], true],
  ["commandstats", "Commandstats", commandstatsSection, false],
  ["errorstats", "Errorstats", errorstatsSection, true],
  ["latencystats", "Latencystats", latencystatsSection, false],
  ["cluster", "Cluster", (s) => [`cluster_enabled:${s.cluster !== null ? 1 : 0}`], true],
  ["keyspace", "Keyspace", keyspaceSection, true],
];

/** The INFO reply for the requested section names (lower-cased), as Redis 7.0 selects them. */
export function infoText(server: Server, requested: string[]): string {
  const wanted = new Set<string>();
  // `all` and `everything` differ only by the sections modules add, and redbun has no modules.
  let all = false;
  if (requested.length === 0) requested = ["default"];
  for (const name of requested) {
    if (name === "all" || name === "everything") all = true;
    else if (name === "default") for (const [n, , , d] of SECTIONS) d && wanted.add(n);
    // Redis names the list of loaded modules `module_list`; `modules` selects it as well.
    else if (name === "module_list") wanted.add("modules");
    else wanted.add(name);
  }
  let out = "";
  let count = 0;
  for (const [name, title, build] of SECTIONS) {
    if (!all && !wanted.has(name)) continue;
    if (count++ > 0) out += "\r\n";
    out += `# ${title}\r\n`;
    for (const line of build(server)) out += line + "\r\n";
  }
  return out;
}

/**
 * Every section's `field:value` lines by section name, as `INFO everything` shows them: the
 * Prometheus endpoint (prometheus.ts) reads its figures from here so both always agree.
 */
export function infoSectionLines(server: Server): Map<string, string[]> {
  const bySection = new Map<string, string[]>();
  for (const [name, , build] of SECTIONS) bySection.set(name, build(server));
  return bySection;
}

function serverSection(s: Server): string[] {
  const nowMs = Date.now();
  const uptimeS = Math.floor((nowMs - s.startedMs) / 1000);
  return [
    `redis_version:${REDIS_VERSION}`,
    "redis_git_sha1:00000000",
    "redis_git_dirty:0",
    "redis_build_id:0",
    "redis_mode:standalone",
    `os:Linux ${release()} ${arch() === "x64" ? "x86_64" : arch()}`,
    "arch_bits:64",
    "monotonic_clock:POSIX clock_gettime",
    "multiplexing_api:epoll",
    "atomicvar_api:c11-builtin",
    "gcc_version:0.0.0",
    `process_id:${process.pid}`,
    "process_supervised:no",
    `run_id:${s.runId}`,
    `tcp_port:${s.port || s.tlsPort}`,
    `server_time_usec:${nowMs * 1000}`,
    `uptime_in_seconds:${uptimeS}`,
    `uptime_in_days:${Math.floor(uptimeS / 86400)}`,
    `hz:${s.config.hz}`,
    `configured_hz:${s.config.hz}`,
    `lru_clock:${lruClock(nowMs)}`,
    `executable:${process.execPath}`,
    `config_file:${s.configFile}`,
    "io_threads_active:0",
  ];
}

function clientsSection(s: Server): string[] {
  let blocked = 0;
  for (const c of s.clients.values()) {
    // Redis counts clients held by CLIENT PAUSE among the blocked ones.
    if (c.blocked || c.postponed) blocked++;
  }
  return [
    `connected_clients:${s.clients.size}`,
    `cluster_connections:${s.cluster !== null ? s.cluster.bus.linkCount() : 0}`,
    `maxclients:${s.config.maxclients}`,
    `client_recent_max_input_buffer:${s.recentClientPeaks.maxInput}`,
    `client_recent_max_output_buffer:${s.recentClientPeaks.maxOutput}`,
    `blocked_clients:${blocked}`,
    `tracking_clients:${s.tracking.clients}`,
    `clients_in_timeout_table:${s.blocking.timedCount}`,
  ];
}

/** `part / whole` with two decimals, as Redis prints its ratios. */
function ratio(part: number, whole: number): string {
  return (part / Math.max(whole, 1)).toFixed(2);
}

/**
 * used_memory and its breakdown come from the accounting (cache/memory.ts); the allocator
 * figures and the ratios against them from the process, as Bun reports it.
 */
function memorySection(s: Server): string[] {
  const mh = memoryOverhead(s);
  const used = mh.total;
  const { allocated, active, resident, rss } = mh.process;
  const total = totalmem();
  const maxmemory = s.config.maxmemory;
  // redbun has no scripting engine yet, so every Lua and function figure is honestly zero.
  return [
    `used_memory:${used}`,
    `used_memory_human:${formatBytesHuman(used)}`,
    `used_memory_rss:${rss}`,
    `used_memory_rss_human:${formatBytesHuman(rss)}`,
    `used_memory_peak:${mh.peak}`,
    `used_memory_peak_human:${formatBytesHuman(mh.peak)}`,
    `used_memory_peak_perc:${mh.peakPerc.toFixed(2)}%`,
    `used_memory_overhead:${mh.overheadTotal}`,
    `used_memory_startup:${mh.startup}`,
    `used_memory_dataset:${mh.dataset}`,
    `used_memory_dataset_perc:${mh.datasetPerc.toFixed(2)}%`,
    `allocator_allocated:${allocated}`,
    `allocator_active:${active}`,
    `allocator_resident:${resident}`,
    `total_system_memory:${total}`,
    `total_system_memory_human:${formatBytesHuman(total)}`,
    "used_memory_lua:0",
    "used_memory_vm_eval:0",
    "used_memory_lua_human:0B",
    "used_memory_scripts_eval:0",
    "number_of_cached_scripts:0",
    "number_of_functions:0",
    "number_of_libraries:0",
    "used_memory_vm_functions:0",
    "used_memory_vm_total:0",
    "used_memory_vm_total_human:0B",
    "used_memory_functions:0",
    "used_memory_scripts:0",
    "used_memory_scripts_human:0B",
    `maxmemory:${maxmemory}`,
    `maxmemory_human:${formatBytesHuman(maxmemory)}`,
    `maxmemory_policy:${s.config.maxmemoryPolicy}`,
    `allocator_frag_ratio:${ratio(active, allocated)}`,
    `allocator_frag_bytes:${mh.allocatorFragBytes}`,
    `allocator_rss_ratio:${ratio(resident, active)}`,
    `allocator_rss_bytes:${mh.allocatorRssBytes}`,
    `rss_overhead_ratio:${ratio(rss, resident)}`,
    `rss_overhead_bytes:${mh.rssExtraBytes}`,
    `mem_fragmentation_ratio:${ratio(rss, used)}`,
    `mem_fragmentation_bytes:${mh.totalFragBytes}`,
    `mem_not_counted_for_evict:${notCountedForEviction(s)}`,
    `mem_replication_backlog:${s.replication.backlog?.size ?? 0}`,
    "mem_total_replication_buffers:0",
    "mem_clients_slaves:0",
    `mem_clients_normal:${mh.clientsNormal}`,
    `mem_cluster_links:${s.cluster !== null ? s.cluster.bus.linksMemory() : 0}`,
    `mem_aof_buffer:${mh.aofBuffer}`,
    `mem_allocator:${ALLOCATOR_NAME}`,
    "active_defrag_running:0",
    "lazyfree_pending_objects:0",
    "lazyfreed_objects:0",
  ];
}

function persistenceSection(s: Server): string[] {
  const rdb = s.rdb;
  const bgsave = rdb.bgsave;
  const saving = bgsave !== null;
  const keysTotal = saving ? bgsave.keysTotal : 0;
  const keysDone = saving ? bgsave.keysWritten : 0;
  const nowMs = Date.now();
  return [
    `loading:${rdb.loading ? 1 : 0}`,
    "async_loading:0",
    "current_cow_peak:0",
    "current_cow_size:0",
    "current_cow_size_age:0",
    // Redis's fork progress: the share of keys the save has written.
    `current_fork_perc:${keysTotal > 0 ? ((keysDone / keysTotal) * 100).toFixed(2) : "0.00"}`,
    `current_save_keys_processed:${keysDone}`,
    `current_save_keys_total:${keysTotal}`,
    `rdb_changes_since_last_save:${s.dirty}`,
    `rdb_bgsave_in_progress:${saving ? 1 : 0}`,
    `rdb_last_save_time:${Math.floor(s.lastSaveMs / 1000)}`,
    `rdb_last_bgsave_status:${rdb.lastSaveOk ? "ok" : "err"}`,
    `rdb_last_bgsave_time_sec:${rdb.lastBgsaveTimeSec}`,
    `rdb_current_bgsave_time_sec:${saving ? unixSecondsBetween(bgsave.startedMs, nowMs) : -1}`,
    `rdb_saves:${rdb.saves}`,
    "rdb_last_cow_size:0",
    `rdb_last_load_keys_expired:${rdb.lastLoadKeysExpired}`,
    `rdb_last_load_keys_loaded:${rdb.lastLoadKeysLoaded}`,
    ...aofInfoLines(s),
    "module_fork_in_progress:0",
    "module_fork_last_cow_size:0",
    // Redis prints the AOF's sizes and buffers after the fork lines, only while it is on.
    ...aofEnabledInfoLines(s),
  ];
}

function statsSection(s: Server): string[] {
  const st = s.stats;
  const ks = s.keyspaceStats;
  const currentExceededMs = st.evictionExceededSince === 0 ? 0 : performance.now() - st.evictionExceededSince;
  return [
    `total_connections_received:${st.connectionsReceived}`,
    `total_commands_processed:${st.commandsProcessed}`,
    `instantaneous_ops_per_sec:${Math.round(st.opsPerSec.value)}`,
    `total_net_input_bytes:${st.netInputBytes}`,
    `total_net_output_bytes:${st.netOutputBytes}`,
    `total_net_repl_input_bytes:${st.netReplInputBytes}`,
    `total_net_repl_output_bytes:${st.netReplOutputBytes}`,
    `instantaneous_input_kbps:${st.inputKbps.value.toFixed(2)}`,
    `instantaneous_output_kbps:${st.outputKbps.value.toFixed(2)}`,
    `instantaneous_input_repl_kbps:${st.replInputKbps.value.toFixed(2)}`,
    `instantaneous_output_repl_kbps:${st.replOutputKbps.value.toFixed(2)}`,
    `rejected_connections:${st.rejectedConnections}`,
    `sync_full:${s.replication.syncFull}`,
    `sync_partial_ok:${s.replication.syncPartialOk}`,
    `sync_partial_err:${s.replication.syncPartialErr}`,
    `expired_keys:${ks.expiredKeys}`,
    `expired_stale_perc:${(ks.expiredStalePerc * 100).toFixed(2)}`,
    `expired_time_cap_reached_count:${ks.expiredTimeCapReachedCount}`,
    "expire_cycle_cpu_milliseconds:0",
    `evicted_keys:${ks.evictedKeys}`,
    "evicted_clients:0",
    `total_eviction_exceeded_time:${Math.floor(st.evictionExceededTotalMs + currentExceededMs)}`,
    `current_eviction_exceeded_time:${Math.floor(currentExceededMs)}`,
    `keyspace_hits:${ks.hits}`,
    `keyspace_misses:${ks.misses}`,
    `pubsub_channels:${s.pubsub.channels.byName.size}`,
    `pubsub_patterns:${s.pubsub.patterns.byName.size}`,
    `pubsubshard_channels:${s.pubsub.shardChannels.byName.size}`,
    "latest_fork_usec:0",
    "total_forks:0",
    "migrate_cached_sockets:0",
    "slave_expires_tracked_keys:0",
    "active_defrag_hits:0",
    "active_defrag_misses:0",
    "active_defrag_key_hits:0",
    "active_defrag_key_misses:0",
    "total_active_defrag_time:0",
    "current_active_defrag_time:0",
    `tracking_total_keys:${s.tracking.totalKeys}`,
    `tracking_total_items:${s.tracking.totalItems}`,
    `tracking_total_prefixes:${s.tracking.totalPrefixes}`,
    `unexpected_error_replies:${st.unexpectedErrorReplies}`,
    `total_error_replies:${st.errorReplies}`,
    "dump_payload_sanitizations:0",
    `total_reads_processed:${st.readsProcessed}`,
    `total_writes_processed:${st.writesProcessed}`,
    "io_threaded_reads_processed:0",
    "io_threaded_writes_processed:0",
    // Replies go through one shared writer, so no client's reply buffer is ever resized.
    "reply_buffer_shrinks:0",
    "reply_buffer_expands:0",
  ];
}

/** Distinct channels (or patterns) that at least one client is subscribed to. */
function replicationSection(s: Server): string[] {
  const replication = s.replication;
  const upstream = s.upstream;
  const nowMs = Date.now();
  const backlog = replication.backlog;
  const config = s.config;
  const lines = [`role:${upstream.isReplica ? "slave" : "master"}`];
  if (upstream.isReplica) lines.push(...upstream.infoLines(nowMs));
  lines.push(`connected_slaves:${replication.replicas.length}`);
  if (config.minReplicasToWrite !== 0 && config.minReplicasMaxLag !== 0) lines.push(`min_slaves_good_slaves:${replication.goodReplicas(nowMs)}`);
  lines.push(
    ...replication.infoLines(nowMs),
    `master_failover_state:${replication.failover.stateName}`,
    `master_replid:${replication.replId}`,
    `master_replid2:${replication.replId2}`,
    `master_repl_offset:${replication.offset}`,
    `second_repl_offset:${replication.secondReplOffset}`,
    `repl_backlog_active:${backlog !== null ? 1 : 0}`,
    `repl_backlog_size:${config.replBacklogSize}`,
    `repl_backlog_first_byte_offset:${backlog !== null ? backlog.firstByteOffset : 0}`,
    `repl_backlog_histlen:${backlog !== null ? backlog.histlen : 0}`,
  );
  return lines;
}

function cpuSection(): string[] {
  const u = process.cpuUsage();
  const sys = (u.system / 1e6).toFixed(6);
  const user = (u.user / 1e6).toFixed(6);
  return [
    `used_cpu_sys:${sys}`,
    `used_cpu_user:${user}`,
    "used_cpu_sys_children:0.000000",
    "used_cpu_user_children:0.000000",
    `used_cpu_sys_main_thread:${sys}`,
    `used_cpu_user_main_thread:${user}`,
  ];
}

function commandstatsSection(s: Server): string[] {
  const lines: string[] = [];
  for (const cmd of s.commands.all()) {
    const list = cmd.subcommands === null ? [cmd] : [cmd, ...cmd.subcommands.values()];
    for (const c of list) {
      if (c.calls === 0 && c.rejectedCalls === 0 && c.failedCalls === 0) continue;
      const usec = Math.round(c.usec);
      const perCall = c.calls === 0 ? 0 : usec / c.calls;
      lines.push(
        `cmdstat_${c.fullName}:calls=${c.calls},usec=${usec},usec_per_call=${perCall.toFixed(2)},rejected_calls=${c.rejectedCalls},failed_calls=${c.failedCalls}`,
      );
    }
  }
  return lines;
}

function errorstatsSection(s: Server): string[] {
  const lines: string[] = [];
  // Redis keeps the codes in a radix tree, so it prints them in byte order, not in the order
  // they first happened; codes are latin1 strings, whose default sort is that byte order.
  for (const code of [...s.stats.errorCodes.keys()].sort()) lines.push(`errorstat_${code}:count=${s.stats.errorCodes.get(code)}`);
  return lines;
}

function latencystatsSection(s: Server): string[] {
  if (!s.config.latencyTracking) return [];
  return latencyStatsLines(s.commands.all(), s.config.latencyTrackingInfoPercentiles);
}

function keyspaceSection(s: Server): string[] {
  const lines: string[] = [];
  for (const db of s.dbs) {
    if (db.size === 0) continue;
    lines.push(`db${db.id}:keys=${db.size},expires=${db.volatileCount},avg_ttl=${Math.round(db.avgTtl)}`);
  }
  return lines;
}
