// The RESP request parser on the shapes the server sees most, with mitata.
//
//   bun bench/parser.bench.ts        (or all suites: bun run bench:micro)
//
// Importing the file only registers the benchmarks, so micro.bench.ts can collect it with
// the other suites; run directly, it runs them. Every benchmark parses a 16-command
// pipeline, so the time per command is the reported time divided by 16.
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { Argv, NEED_MORE, ParseState, parseCommand } from "../src/resp/parser.ts";

const COMMANDS_PER_PIPELINE = 16;

/** Encode one command as a RESP multibulk, the way clients send it. */
function multibulk(args: string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a, "latin1")}\r\n${a}\r\n`;
  return s;
}

/** Eight SETs of 32-byte values interleaved with eight GETs, as redis-benchmark -P 16 sends. */
function setGetPipeline(): Buffer {
  let s = "";
  for (let i = 0; i < COMMANDS_PER_PIPELINE / 2; i++) {
    const key = `key:${String(i * 7919).padStart(12, "0")}`;
    s += multibulk(["SET", key, "v".repeat(32)]);
    s += multibulk(["GET", key]);
  }
  return Buffer.from(s, "latin1");
}

const argv = new Argv();
const state = new ParseState();

/** Parse every command in buf[0..end); returns how many commands were found. */
function parseAllCommands(buf: Uint8Array, end: number): number {
  let commands = 0;
  let pos = 0;
  while (pos < end) {
    const next = parseCommand(buf, pos, end, argv, state);
    if (next < 0) break;
    pos = next;
    commands++;
  }
  return commands;
}

function check(name: string, got: number): void {
  if (got !== COMMANDS_PER_PIPELINE) throw new Error(`${name}: parsed ${got} commands, expected ${COMMANDS_PER_PIPELINE}`);
}

const pipeline = setGetPipeline();
check("SET/GET pipeline", parseAllCommands(pipeline, pipeline.length));

const inline = Buffer.from("PING\r\n".repeat(COMMANDS_PER_PIPELINE), "latin1");
check("inline PING", parseAllCommands(inline, inline.length));

const mset: string[] = ["MSET"];
for (let i = 0; i < 8; i++) mset.push(`key:${i}`, `value:${i}`);
const msetPipeline = Buffer.from(multibulk(mset).repeat(COMMANDS_PER_PIPELINE), "latin1");
check("MSET pipeline", parseAllCommands(msetPipeline, msetPipeline.length));

group("parse a 16-command pipeline (time / 16 = per command)", () => {
  summary(() => {
    bench("SET/GET, one chunk", () => do_not_optimize(parseAllCommands(pipeline, pipeline.length)));

    bench("SET/GET, one chunk, keys decoded", () => {
      let pos = 0;
      let keyChars = 0;
      while (pos < pipeline.length) {
        pos = parseCommand(pipeline, pos, pipeline.length, argv, state);
        // What a handler does with the key: a latin1 string for the keyspace.
        keyChars += argv.str(1).length;
      }
      return do_not_optimize(keyChars);
    });

    // The pipeline arrives cut in the middle of a command: the first read parses what is
    // complete and stops, the second resumes at the incomplete command.
    const cut = Math.floor(pipeline.length / 2) + 3;
    bench("SET/GET, split across two reads", () => {
      let pos = 0;
      let commands = 0;
      for (;;) {
        const next = parseCommand(pipeline, pos, cut, argv, state);
        if (next === NEED_MORE) break;
        pos = next;
        commands++;
      }
      while (pos < pipeline.length) {
        pos = parseCommand(pipeline, pos, pipeline.length, argv, state);
        commands++;
      }
      return do_not_optimize(commands);
    });

    bench("inline PING", () => do_not_optimize(parseAllCommands(inline, inline.length)));

    bench("MSET of 8 pairs", () => do_not_optimize(parseAllCommands(msetPipeline, msetPipeline.length)));
  });
});

if (import.meta.main) await run();
