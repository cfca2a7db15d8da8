// The whole command path in one process, with mitata: a Server that never listens gets
// redis-benchmark's pipelines (16 commands a read, -P 16) through its data handler and a
// socket that swallows the replies, so parse + dispatch + execute + reply is measured
// without the kernel or the benchmark client, whose noise hides it in bench:vs-redis.
//
//   bun bench/dispatch.bench.ts
//
// The commands are byte for byte what `redis-benchmark -t <test>` sends without -r, where
// `__rand_int__` stays literal: MSET sets the same key ten times, SADD adds one member.
import { bench, group, run, summary } from "mitata";
import { inProcessServer, resp } from "./lib/in-process.ts";

const PIPELINE = 16;

const MSET_ARGS = ["MSET"];
for (let i = 0; i < 10; i++) MSET_ARGS.push("key:__rand_int__", "xxx");

/** redis-benchmark's value for -d 3. */
const VALUE = "VXK";

const TESTS: Record<string, string> = {
  ping: resp("PING"),
  set: resp("SET", "key:__rand_int__", VALUE),
  get: resp("GET", "key:__rand_int__"),
  incr: resp("INCR", "counter:__rand_int__"),
  mset: resp(...MSET_ARGS),
  lpush: resp("LPUSH", "mylist", VALUE),
  rpop: resp("RPOP", "mylist"),
  sadd: resp("SADD", "myset", "element:__rand_int__"),
  hset: resp("HSET", "myhash", "element:__rand_int__", VALUE),
  zadd: resp("ZADD", "myzset", "0", "element:__rand_int__"),
  lrange_100: resp("LRANGE", "mylist", "0", "99"),
};

/**
 * RPOP must not run the list dry, whatever order and how often mitata runs the benchmarks:
 * a few million items outlast any run (about 15 MB of listpack).
 */
const SETUP_ITEMS = 3_000_000;
const SETUP = resp("RPUSH", "mylist", ...Array<string>(1000).fill(VALUE)).repeat(SETUP_ITEMS / 1000);

const server = inProcessServer();
server.feed(new TextEncoder().encode(SETUP));

summary(() => {
  group(`one read of ${PIPELINE} pipelined commands`, () => {
    for (const [name, command] of Object.entries(TESTS)) {
      const chunk = new TextEncoder().encode(command.repeat(PIPELINE));
      bench(name, () => server.feed(chunk));
    }
  });
});

if (import.meta.main) await run();
