// A job queue in Lua scripts, written the way BullMQ writes its own: several KEYS (wait
// list, active list, delayed zset, completed and failed zsets, id counter, event stream),
// the job-hash prefix, payloads and the current time in ARGV, and replies that are
// arrays, nil, numbers and errors from redis.error_reply. Beside it, a lock with a token
// (SET NX PX, compare-and-delete, compare-and-extend) and a sliding-window rate limiter.
//
// A seeded random sequence of operations runs against redis-server and redbun through
// ioredis defineCommand (the *Buffer variants, so replies are compared byte for byte),
// every reply compared, then DEBUG DIGEST and a DUMP of every key. SEED=n replays a run,
// STEPS=n changes its length, HISTORY=n prints more of the operations before a failure.
//
// Time is simulated: the scripts get "now" in ARGV and the event stream's IDs are
// `now-*`, so both servers write the same IDs. Real expiries (the locks' PX, the
// limiter's PEXPIRE) are long enough never to fire during a run.

import { afterAll, beforeAll, expect, test } from "bun:test";
import Redis from "ioredis";
import { Oracle, rng, withHistory } from "../oracle/harness.ts";
import { type Random, pick, seedFromEnv, stepsFromEnv } from "../oracle/fuzz.ts";
import { connectIoredis, outcome, pipelineResults } from "./client-helpers.ts";

const STEPS = stepsFromEnv(3000);
const SEED = seedFromEnv();

/** A script as defineCommand takes it: its fixed key count and its source. */
interface ScriptDef {
  numberOfKeys: number;
  lua: string;
}

/**
 * addJob: KEYS wait, delayed, id counter, events; ARGV job-key prefix, name, data, now,
 * options as JSON (delay, attempts, lifo, backoff), read with cjson. Returns the new id.
 */
const ADD_JOB = `
local jobId = redis.call('INCR', KEYS[3])
local jobKey = ARGV[1] .. jobId
if redis.call('EXISTS', jobKey) == 1 then
  return redis.error_reply('ERR job ' .. jobId .. ' already exists')
end
local opts = cjson.decode(ARGV[5])
local delay = opts.delay or 0
redis.call('HSET', jobKey, 'name', ARGV[2], 'data', ARGV[3], 'opts', ARGV[5], 'timestamp', ARGV[4],
  'delay', delay, 'attempts', opts.attempts or 1, 'attemptsMade', 0)
if delay > 0 then
  local due = tonumber(ARGV[4]) + delay
  redis.call('ZADD', KEYS[2], due, jobId)
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', 50, ARGV[4] .. '-*', 'event', 'delayed', 'jobId', jobId, 'delay', due)
else
  -- A JSON null decodes to cjson.null, which Lua counts as true.
  if opts.lifo then
    redis.call('RPUSH', KEYS[1], jobId)
  else
    redis.call('LPUSH', KEYS[1], jobId)
  end
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', 50, ARGV[4] .. '-*', 'event', 'waiting', 'jobId', jobId)
end
return jobId`;

/** promoteDelayed: KEYS wait, delayed, events; ARGV now, limit. Returns the promoted ids. */
const PROMOTE_DELAYED = `
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, jobId in ipairs(due) do
  redis.call('ZREM', KEYS[2], jobId)
  redis.call('LPUSH', KEYS[1], jobId)
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', 50, ARGV[1] .. '-*', 'event', 'waiting', 'jobId', jobId, 'prev', 'delayed')
end
return due`;

/**
 * moveToActive: KEYS wait, active, events; ARGV prefix, now, lock token, lock ms, how
 * ("lmove" or "rpoplpush"). Returns nil when nothing waits, else {id, job fields, lock}.
 */
const MOVE_TO_ACTIVE = `
local jobId
if ARGV[5] == 'lmove' then
  jobId = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
else
  jobId = redis.call('RPOPLPUSH', KEYS[1], KEYS[2])
end
if not jobId then
  return nil
end
local jobKey = ARGV[1] .. jobId
local locked = redis.call('SET', jobKey .. ':lock', ARGV[3], 'NX', 'PX', ARGV[4])
redis.call('HSET', jobKey, 'processedOn', ARGV[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', 50, ARGV[2] .. '-*', 'event', 'active', 'jobId', jobId)
return {jobId, redis.call('HGETALL', jobKey), locked}`;

/**
 * completeJob: KEYS active, completed, events; ARGV prefix, id, token, now, return value,
 * completed jobs to keep. Errors for a missing job or lock, -1 when the job is not active,
 * else the number of old completed jobs removed.
 */
const COMPLETE_JOB = `
local jobKey = ARGV[1] .. ARGV[2]
if redis.call('EXISTS', jobKey) == 0 then
  return redis.error_reply('ERR Missing key for job ' .. ARGV[2] .. '. moveToFinished')
end
if redis.call('GET', jobKey .. ':lock') ~= ARGV[3] then
  return redis.error_reply('ERR Missing lock for job ' .. ARGV[2] .. '. moveToFinished')
end
if redis.call('LREM', KEYS[1], -1, ARGV[2]) == 0 then
  return -1
end
redis.call('DEL', jobKey .. ':lock')
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
redis.call('HSET', jobKey, 'returnvalue', ARGV[5], 'finishedOn', ARGV[4])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', 50, ARGV[4] .. '-*', 'event', 'completed', 'jobId', ARGV[2], 'returnvalue', ARGV[5])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[6])
if excess <= 0 then
  return 0
end
local old = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
for _, oldId in ipairs(old) do
  redis.call('DEL', ARGV[1] .. oldId, ARGV[1] .. oldId .. ':logs')
end
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
return #old`;

/**
 * failJob: KEYS active, wait, delayed, failed, events; ARGV prefix, id, token, now,
 * reason, backoff ms unless the job's options give one. Retries while attempts remain
 * (at once or after the backoff), else
 * moves the job to failed. Returns {what happened, attempts made} or an error.
 */
const FAIL_JOB = `
local jobKey = ARGV[1] .. ARGV[2]
if redis.call('EXISTS', jobKey, jobKey .. ':lock') ~= 2 then
  return redis.error_reply('ERR Missing key or lock for job ' .. ARGV[2] .. '. moveToFailed')
end
if redis.call('GET', jobKey .. ':lock') ~= ARGV[3] then
  return redis.error_reply('ERR Lock mismatch for job ' .. ARGV[2])
end
redis.call('LREM', KEYS[1], -1, ARGV[2])
redis.call('DEL', jobKey .. ':lock')
local made = redis.call('HINCRBY', jobKey, 'attemptsMade', 1)
redis.call('HSET', jobKey, 'failedReason', ARGV[5])
redis.call('RPUSH', jobKey .. ':logs', ARGV[4] .. ' ' .. ARGV[5])
local what
if made < tonumber(redis.call('HGET', jobKey, 'attempts')) then
  local rawOpts = redis.call('HGET', jobKey, 'opts')
  local opts = rawOpts and cjson.decode(rawOpts) or {}
  local backoff = opts.backoff and opts.backoff.delay or tonumber(ARGV[6])
  if backoff > 0 then
    redis.call('ZADD', KEYS[3], tonumber(ARGV[4]) + backoff, ARGV[2])
    what = 'delayed'
  else
    redis.call('RPUSH', KEYS[2], ARGV[2])
    what = 'waiting'
  end
else
  redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2])
  redis.call('HSET', jobKey, 'finishedOn', ARGV[4])
  what = 'failed'
end
redis.call('XADD', KEYS[5], 'MAXLEN', '~', 50, ARGV[4] .. '-*', 'event', what, 'jobId', ARGV[2], 'attemptsMade', made)
return {what, made}`;

/** getJob: ARGV prefix, id. The job's fields and logs, or nil. */
const GET_JOB = `
local jobKey = ARGV[1] .. ARGV[2]
if redis.call('EXISTS', jobKey) == 0 then
  return nil
end
return {redis.call('HGETALL', jobKey), redis.call('LRANGE', jobKey .. ':logs', 0, -1), redis.call('HMGET', jobKey, 'attemptsMade', 'nosuch')}`;

/**
 * getCounts: KEYS wait, active, delayed, completed, failed. The five sizes and the
 * completed share as Lua prints a number.
 */
const GET_COUNTS = `
local counts = {redis.call('LLEN', KEYS[1]), redis.call('LLEN', KEYS[2]), redis.call('ZCARD', KEYS[3]),
  redis.call('ZCARD', KEYS[4]), redis.call('ZCARD', KEYS[5])}
local total = counts[1] + counts[2] + counts[3] + counts[4] + counts[5]
counts[6] = tostring(counts[4] / math.max(total, 1))
return counts`;

/**
 * addBulk: KEYS wait, id counter, events; ARGV prefix, now, then name and data of each
 * job. Pushes all the new ids with one LPUSH (unpack); returns them.
 */
const ADD_BULK = `
local ids = {}
for i = 3, #ARGV, 2 do
  local jobId = redis.call('INCR', KEYS[2])
  redis.call('HSET', ARGV[1] .. jobId, 'name', ARGV[i], 'data', ARGV[i + 1], 'timestamp', ARGV[2],
    'delay', 0, 'attempts', 1, 'attemptsMade', 0)
  ids[#ids + 1] = jobId
end
if #ids > 0 then
  redis.call('LPUSH', KEYS[1], unpack(ids))
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', 50, ARGV[2] .. '-*', 'event', 'added', 'count', #ids)
return ids`;

/**
 * cleanJobs: KEYS a finished set (completed or failed); ARGV prefix, finished before,
 * limit. Deletes the jobs and their logs in one DEL, one ZREM; {keys deleted, ids}.
 */
const CLEAN_JOBS = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
if #ids == 0 then
  return {}
end
local keys = {}
for _, id in ipairs(ids) do
  table.insert(keys, ARGV[1] .. id)
  table.insert(keys, ARGV[1] .. id .. ':logs')
end
local deleted = redis.call('DEL', unpack(keys))
redis.call('ZREM', KEYS[1], unpack(ids))
return {deleted, ids}`;

/**
 * getState: KEYS completed, failed, delayed, active, wait; ARGV id. Where the job is, with
 * its score or position; LPOS on the active list through pcall, its error returned.
 */
const GET_STATE = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 'completed'
end
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return 'failed'
end
local score = redis.call('ZSCORE', KEYS[3], ARGV[1])
if score then
  return {'delayed', score}
end
local pos = redis.pcall('LPOS', KEYS[4], ARGV[1])
if type(pos) == 'table' then
  return {'error', pos.err}
end
if pos then
  return {'active', pos}
end
pos = redis.call('LPOS', KEYS[5], ARGV[1])
if pos then
  return {'waiting', pos}
end
return redis.status_reply('unknown')`;

/**
 * updateProgress: ARGV prefix, id, progress. Stores the progress as Lua prints it, adds
 * it up with HINCRBYFLOAT, and returns it in the forms a script can give a number back.
 */
const UPDATE_PROGRESS = `
local jobKey = ARGV[1] .. ARGV[2]
if redis.call('EXISTS', jobKey) == 0 then
  return redis.error_reply('ERR Missing key for job ' .. ARGV[2] .. '. updateProgress')
end
local progress = tonumber(ARGV[3])
redis.call('HSET', jobKey, 'progress', progress)
local total = redis.call('HINCRBYFLOAT', jobKey, 'totalProgress', ARGV[3])
return {progress, tostring(progress), string.format('%.3f', progress), total, progress * 3, tostring(progress * 3),
  redis.call('HGET', jobKey, 'progress')}`;

/**
 * addPrioritized: KEYS prioritized zset, priority counter, id counter, events; ARGV
 * prefix, name, data, now, priority. The score packs the priority above a counter, as
 * BullMQ does, so that equal priorities keep their order: {id, score, score as Lua prints it}.
 */
const ADD_PRIORITIZED = `
local jobId = redis.call('INCR', KEYS[3])
redis.call('HSET', ARGV[1] .. jobId, 'name', ARGV[2], 'data', ARGV[3], 'timestamp', ARGV[4],
  'priority', ARGV[5], 'attempts', 1, 'attemptsMade', 0)
local score = tonumber(ARGV[5]) * 0x100000000 + redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], score, jobId)
redis.call('XADD', KEYS[4], 'MAXLEN', '~', 50, ARGV[4] .. '-*', 'event', 'prioritized', 'jobId', jobId, 'score', score)
return {jobId, score, tostring(score)}`;

/**
 * takePrioritized: KEYS prioritized, active, events; ARGV prefix, now, lock token, lock
 * ms. Moves the job with the lowest score to active: {id, score} or nil.
 */
const TAKE_PRIORITIZED = `
local popped = redis.call('ZPOPMIN', KEYS[1])
if #popped == 0 then
  return nil
end
local jobId = popped[1]
redis.call('LPUSH', KEYS[2], jobId)
redis.call('SET', ARGV[1] .. jobId .. ':lock', ARGV[3], 'PX', ARGV[4])
redis.call('HSET', ARGV[1] .. jobId, 'processedOn', ARGV[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', 50, ARGV[2] .. '-*', 'event', 'active', 'jobId', jobId, 'prev', 'prioritized')
return {jobId, popped[2]}`;

/** lock: KEYS lock; ARGV token, ms. 1 when taken, 0 when someone holds it. */
const LOCK = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0`;

/** unlock: KEYS lock; ARGV token. Deletes the lock only when the token holds it. */
const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** extendLock: KEYS lock; ARGV token, ms. PEXPIRE's reply, or an error for a stranger. */
const EXTEND_LOCK = `
local holder = redis.call('GET', KEYS[1])
if holder == false then
  return nil
end
if holder ~= ARGV[1] then
  return redis.error_reply('LOCKED by ' .. holder)
end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`;

/**
 * rateLimit: KEYS window zset; ARGV now, window ms, limit, member, expiry ms. {1, hits}
 * when allowed, {0, hits, ms until a slot frees} when not.
 */
const RATE_LIMIT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local hits = redis.call('ZCARD', KEYS[1])
if hits >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, hits, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1, hits + 1}`;

/** repair: KEYS the queue's keys. Deletes those holding a string; returns their names. */
const REPAIR = `
local removed = {}
for _, key in ipairs(KEYS) do
  if redis.call('TYPE', key).ok == 'string' then
    redis.call('DEL', key)
    removed[#removed + 1] = key
  end
end
return removed`;

const SCRIPTS: Record<string, ScriptDef> = {
  addJob: { numberOfKeys: 4, lua: ADD_JOB },
  promoteDelayed: { numberOfKeys: 3, lua: PROMOTE_DELAYED },
  moveToActive: { numberOfKeys: 3, lua: MOVE_TO_ACTIVE },
  completeJob: { numberOfKeys: 3, lua: COMPLETE_JOB },
  failJob: { numberOfKeys: 5, lua: FAIL_JOB },
  getJob: { numberOfKeys: 0, lua: GET_JOB },
  getCounts: { numberOfKeys: 5, lua: GET_COUNTS },
  lock: { numberOfKeys: 1, lua: LOCK },
  unlock: { numberOfKeys: 1, lua: UNLOCK },
  extendLock: { numberOfKeys: 1, lua: EXTEND_LOCK },
  rateLimit: { numberOfKeys: 1, lua: RATE_LIMIT },
  repair: { numberOfKeys: 3, lua: REPAIR },
  addBulk: { numberOfKeys: 3, lua: ADD_BULK },
  cleanJobs: { numberOfKeys: 1, lua: CLEAN_JOBS },
  getState: { numberOfKeys: 5, lua: GET_STATE },
  updateProgress: { numberOfKeys: 0, lua: UPDATE_PROGRESS },
  addPrioritized: { numberOfKeys: 4, lua: ADD_PRIORITIZED },
  takePrioritized: { numberOfKeys: 3, lua: TAKE_PRIORITIZED },
};

const Q = {
  wait: "q:wait",
  active: "q:active",
  delayed: "q:delayed",
  prioritized: "q:prioritized",
  priorityCounter: "q:pc",
  completed: "q:completed",
  failed: "q:failed",
  id: "q:id",
  events: "q:events",
};
const PREFIX = "q:job:";
const RESOURCES = ["lock:a", "lock:b", "lock:\xff\x00"];
const LIMITERS = ["rl:user1", "rl:user2"];
/** Real expiries: far beyond any run, so that both servers keep the same keys. */
const REAL_TTL_MS = "600000";

type Arg = string | number | Buffer;
type ScriptCall = (...args: Arg[]) => Promise<unknown>;

/** A script's *Buffer variant on a client: replies as Buffers, byte for byte. */
function scriptOf(client: Redis, name: string): ScriptCall {
  const method = (client as unknown as Record<string, ScriptCall>)[`${name}Buffer`]!;
  return method.bind(client);
}

/** Buffers as latin1 strings, recursively: replies to read and compare. */
function text(reply: unknown): unknown {
  if (Buffer.isBuffer(reply)) return reply.toString("latin1");
  if (Array.isArray(reply)) return reply.map(text);
  return reply;
}

const latin1 = (s: string): Buffer => Buffer.from(s, "latin1");

/** A job payload: JSON-ish, with numbers, quotes, and now and then raw bytes. */
function payload(r: Random): Buffer {
  const n = Math.floor(r() * 1000);
  const extra = pick(r, ["", ',"tag":"\\u00e9"', ',"raw":"\xff\x00\r\n"', `,"pad":"${"x".repeat(Math.floor(r() * 120))}"`]);
  return latin1(`{"n":${n},"nested":{"ok":${r() < 0.5}}${extra}}`);
}

/** The driver's view of the queue, read from Redis's replies (the same as redbun's). */
interface QueueModel {
  now: number;
  tokens: number;
  /** Active jobs and the lock tokens they were taken with. */
  active: Map<string, string>;
  knownIds: string[];
  lockTokens: string[];
}

/** One operation: a script name and its arguments, drawn from the model. */
type Operation = [name: string, args: Arg[]];

/** A job's options as JSON, as a client library would send them. */
function jobOptions(r: Random, delay: number): string {
  const parts = [`"attempts":${1 + Math.floor(r() * 3)}`];
  if (delay > 0 || r() < 0.3) parts.push(`"delay":${delay}`);
  if (r() < 0.3) parts.push(`"lifo":${pick(r, ["true", "false", "null"])}`);
  if (r() < 0.3) parts.push(`"backoff":{"type":"fixed","delay":${pick(r, [0, 250, 1000.0, 1500.5])}}`);
  if (r() < 0.2) parts.push(`"jobId":"custom-\\u00e9\\n"`, `"removeOnComplete":[true,10,null]`);
  return `{${parts.join(",")}}`;
}

/** A job id the queue gave out, now and then one it never did. */
function someJob(r: Random, m: QueueModel): string {
  return m.knownIds.length > 0 && r() < 0.9 ? pick(r, m.knownIds) : "999999";
}

function activeJob(r: Random, m: QueueModel): [string, string] {
  const entries = [...m.active.entries()];
  if (entries.length > 0 && r() < 0.85) {
    const [id, token] = pick(r, entries);
    return [id, r() < 0.9 ? token : "stale-token"];
  }
  return [m.knownIds.length > 0 ? pick(r, m.knownIds) : "1", `tok-${m.tokens}`];
}

const OPERATIONS: [number, (r: Random, m: QueueModel) => Operation][] = [
  [10, (r, m) => ["addJob", [Q.wait, Q.delayed, Q.id, Q.events, PREFIX, pick(r, ["email", "resize", "\xffbin"]), payload(r), m.now, jobOptions(r, 0)]]],
  [4, (r, m) => ["addJob", [Q.wait, Q.delayed, Q.id, Q.events, PREFIX, "later", payload(r), m.now, jobOptions(r, 1 + Math.floor(r() * 3000))]]],
  [4, (r, m) => ["promoteDelayed", [Q.wait, Q.delayed, Q.events, m.now, 1 + Math.floor(r() * 4)]]],
  [10, (r, m) => ["moveToActive", [Q.wait, Q.active, Q.events, PREFIX, m.now, `tok-${++m.tokens}`, REAL_TTL_MS, pick(r, ["lmove", "rpoplpush"])]]],
  [6, (r, m) => {
    const [id, token] = activeJob(r, m);
    return ["completeJob", [Q.active, Q.completed, Q.events, PREFIX, id, token, m.now, pick(r, ["done", '{"ok":1}', "", "\x00\xff"]), 1 + Math.floor(r() * 8)]];
  }],
  [4, (r, m) => {
    const [id, token] = activeJob(r, m);
    return ["failJob", [Q.active, Q.wait, Q.delayed, Q.failed, Q.events, PREFIX, id, token, m.now, pick(r, ["timeout", "boom: \xff"]), pick(r, [0, 0, 500, 2000])]];
  }],
  [2, (r, m) => ["getJob", [PREFIX, someJob(r, m)]]],
  [2, (r, m) => ["addBulk", [Q.wait, Q.id, Q.events, PREFIX, m.now, ...Array.from({ length: Math.floor(r() * 5) }, () => ["bulk", payload(r)]).flat()]]],
  [1, (r, m) => ["cleanJobs", [pick(r, [Q.completed, Q.failed]), PREFIX, m.now - Math.floor(r() * 5000), 1 + Math.floor(r() * 5)]]],
  [3, (r, m) => ["addPrioritized", [Q.prioritized, Q.priorityCounter, Q.id, Q.events, PREFIX, "ranked", payload(r), m.now, pick(r, [0, 1, 2, 7, 1000, 2097151])]]],
  [3, (r, m) => ["takePrioritized", [Q.prioritized, Q.active, Q.events, PREFIX, m.now, `tok-${++m.tokens}`, REAL_TTL_MS]]],
  [2, (r, m) => ["getState", [Q.completed, Q.failed, Q.delayed, Q.active, Q.wait, someJob(r, m)]]],
  [2, (r, m) => ["updateProgress", [PREFIX, someJob(r, m), pick(r, ["12.5", "-0.25", "100", "1e3", "0.1", "33.333333333333336", "7"])]]],
  [2, () => ["getCounts", [Q.wait, Q.active, Q.delayed, Q.completed, Q.failed]]],
  [3, (r, m) => {
    const token = `lk-${++m.tokens}`;
    m.lockTokens.push(token);
    return ["lock", [pick(r, RESOURCES), token, REAL_TTL_MS]];
  }],
  [2, (r, m) => ["unlock", [pick(r, RESOURCES), m.lockTokens.length > 0 && r() < 0.8 ? pick(r, m.lockTokens) : "nobody"]]],
  [1, (r, m) => ["extendLock", [pick(r, RESOURCES), m.lockTokens.length > 0 ? pick(r, m.lockTokens) : "nobody", REAL_TTL_MS]]],
  [5, (r, m) => ["rateLimit", [pick(r, LIMITERS), m.now, pick(r, [1000, 5000]), pick(r, [3, 10]), `hit-${++m.tokens}`, REAL_TTL_MS]]],
  // A key of the wrong type under a queue key: the next script touching it fails midway,
  // and the writes it made before stay (scripts are not rolled back).
  [0.3, (r) => ["raw", ["SET", pick(r, [Q.delayed, Q.active, Q.events]), "wrong type"]]],
  [2, () => ["repair", [Q.delayed, Q.active, Q.events]]],
  // The clients then get NOSCRIPT and fall back to EVAL, alone or inside a pipeline.
  [0.3, () => ["raw", ["SCRIPT", "FLUSH"]]],
];
const TOTAL_WEIGHT = OPERATIONS.reduce((sum, [weight]) => sum + weight, 0);

function nextOperation(r: Random, m: QueueModel): Operation {
  let x = r() * TOTAL_WEIGHT;
  for (const [weight, make] of OPERATIONS) {
    x -= weight;
    if (x < 0) return make(r, m);
  }
  return OPERATIONS[0]![1](r, m);
}

/** Updates the model from the reply an operation got. */
function observe(m: QueueModel, [name, args]: Operation, seen: unknown): void {
  if (name === "addJob" && typeof seen === "number") m.knownIds.push(String(seen));
  if (name === "addBulk" && Array.isArray(seen)) m.knownIds.push(...seen.map(String));
  if (name === "addPrioritized" && Array.isArray(seen)) m.knownIds.push(String(seen[0]));
  const taken = (name === "moveToActive" || name === "takePrioritized") && Array.isArray(seen);
  if (taken) m.active.set(String(seen[0]), args[5] as string);
  const finished = (name === "completeJob" || name === "failJob") && (typeof seen === "number" ? seen >= 0 : Array.isArray(seen));
  if (finished) m.active.delete(args[4] as string);
}

let o: Oracle;
let clients: [Redis, Redis];

beforeAll(async () => {
  o = await Oracle.start(["--enable-debug-command", "yes"]);
  // Each server starts with whatever dump.rdb lies in its directory.
  await o.same("FLUSHALL");
  clients = (await Promise.all([o.redis.port, o.redbun.port].map(connectIoredis))) as [Redis, Redis];
  for (const client of clients) for (const [name, def] of Object.entries(SCRIPTS)) client.defineCommand(name, def);
});
afterAll(async () => {
  for (const c of clients ?? []) c.disconnect();
  await o?.stop();
});

/** Runs one operation on a client. */
function run(client: Redis, [name, args]: Operation): Promise<unknown> {
  if (name === "raw") return outcome(client.callBuffer(...(args as [string, ...Arg[]])));
  return outcome(scriptOf(client, name)(...args));
}

/** Runs operations as one ioredis pipeline (EVALSHA and EVAL in a single write); their replies. */
async function runPipelined(client: Redis, ops: Operation[]): Promise<unknown[]> {
  const pipeline = client.pipeline();
  const queue = pipeline as unknown as Record<string, ScriptCall>;
  for (const [name, args] of ops) {
    if (name === "raw") pipeline.callBuffer(...(args as [string, ...Arg[]]));
    else queue[`${name}Buffer`]!(...args);
  }
  return pipelineResults(await pipeline.exec()) ?? [];
}

/** Sends one operation, or now and then a pipelined batch, to both; [redis, redbun] replies per operation. */
async function sendToBoth(r: Random, model: QueueModel, history: string[][]): Promise<[Operation, unknown, unknown][]> {
  const ops = Array.from({ length: r() < 0.1 ? 2 + Math.floor(r() * 6) : 1 }, () => nextOperation(r, model));
  for (const [name, args] of ops) history.push([name, ...args.map((a) => (Buffer.isBuffer(a) ? a.toString("latin1") : String(a)))]);
  const replies = ops.length === 1 ? await Promise.all(clients.map(async (c) => [await run(c, ops[0]!)])) : await Promise.all(clients.map((c) => runPipelined(c, ops)));
  // Compared as latin1 text: byte for byte, and readable when they differ.
  return ops.map((op, i) => [op, text(replies[0]![i]), text(replies[1]![i])]);
}

/** A flat field-value list as its pairs, sorted: a hashtable's contents without its order. */
function sortedPairs(flat: unknown): string[] {
  const items = flat as string[];
  const pairs: string[] = [];
  for (let i = 0; i < items.length; i += 2) pairs.push(JSON.stringify([items[i], items[i + 1]]));
  return pairs.sort();
}

/** Where a script's reply holds a job's HGETALL: [job id, index in the reply], or null. */
function jobFieldsAt([name, args]: Operation, reply: unknown): [string, number] | null {
  if (name === "moveToActive" && Array.isArray(reply)) return [reply[0] as string, 1];
  if (name === "getJob" && Array.isArray(reply)) return [String(args[1]), 0];
  return null;
}

/**
 * Replies that differ must differ only in the order of a job's fields, and only for a job
 * hash Redis keeps as a hashtable: a hashtable's order is redbun's own (as in the hash
 * fuzzer), a listpack's is Redis's, byte for byte.
 */
async function expectSameJob(op: Operation, want: unknown, got: unknown): Promise<void> {
  const at = jobFieldsAt(op, want);
  if (at === null || !Array.isArray(got)) return void expect(got).toEqual(want);
  const [jobId, index] = at;
  const unordered = (reply: unknown[]): unknown[] => reply.map((item, i) => (i === index ? sortedPairs(item) : item));
  expect(unordered(got)).toEqual(unordered(want as unknown[]));
  expect(await o.encodingOf(PREFIX + jobId)).toBe("hashtable");
}

/**
 * Every key in key order with its type, encoding, whether it expires, DEBUG DIGEST-VALUE
 * and DUMP payload; a hashtable hash with its sorted pairs instead of the payload, its
 * order being redbun's own.
 */
async function dumpAll(client: Redis): Promise<unknown[]> {
  const keys = (await client.keysBuffer("*")).sort(Buffer.compare);
  const out: unknown[] = [];
  for (const key of keys) {
    const pttl = await client.pttl(key);
    const type = await client.type(key);
    const encoding = await client.object("ENCODING", key);
    const unordered = type === "hash" && encoding === "hashtable";
    const value = unordered ? sortedPairs(text(await client.callBuffer("HGETALL", key))) : await client.dumpBuffer(key);
    const digest = await client.callBuffer("DEBUG", "DIGEST-VALUE", key);
    out.push([key, type, encoding, pttl > 0 ? "expires" : pttl, digest, value]);
  }
  return out;
}

test("a seeded run of queue, lock and rate-limit scripts matches Redis", async () => {
  await withHistory("queue scripts", SEED, async (history) => {
    const r = rng(SEED);
    const model: QueueModel = { now: 1_700_000_000_000, tokens: 0, active: new Map(), knownIds: [], lockTokens: [] };
    for (let step = 0; step < STEPS; step++) {
      model.now += Math.floor(r() * 400);
      for (const [op, want, got] of await sendToBoth(r, model, history)) {
        if (!Bun.deepEquals(got, want)) await expectSameJob(op, want, got);
        observe(model, op, want);
      }
    }
    const [redis, redbun] = clients;
    expect(text(await dumpAll(redbun))).toEqual(text(await dumpAll(redis)));
    expect(await redbun.call("DEBUG", "DIGEST")).toBe((await redis.call("DEBUG", "DIGEST")) as string);
    // The run must have exercised the queue, not only failed early.
    expect(model.knownIds.length).toBeGreaterThan(STEPS / 20);
  });
}, 60_000);
