// The bitmap hot path with mitata: SETBIT, GETBIT and BITCOUNT handlers run on a
// socketless client (as the AOF loader runs commands), their replies dropped after each
// call, so the measure is the handler and the in-place edit of the string's bytes; plus
// the popcount and bit search helpers over a megabyte.
//
//   bun bench/bitmap.bench.ts        (also part of `bun run bench:micro`)
//
// A handler that allocated per call would show up as GC time here: SETBIT, GETBIT and
// BITCOUNT on a raw string must not.
import { bench, group, run, summary } from "mitata";
import { Config } from "../src/config/params.ts";
import { Logger } from "../src/log/log.ts";
import { Server } from "../src/server/server.ts";
import { Client } from "../src/server/client.ts";
import { ParseState, parseCommand } from "../src/resp/parser.ts";
import { findBit, popcount } from "../src/util/bits.ts";

function resp(...args: string[]): Uint8Array {
  return new TextEncoder().encode(`*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join(""));
}

const config = new Config();
const server = new Server(config, new Logger(config, { sink: () => {} }));
const client = new Client(-2, server, null, server.dbs[0]!, "", "");
const state = new ParseState();

/** Parses `command` into the server's argv and runs its handler; the reply is dropped. */
function runner(...args: string[]): () => void {
  const bytes = resp(...args);
  const handler = server.commands.byName.get(args[0]!.toLowerCase())!.handler!;
  return () => {
    parseCommand(bytes, 0, bytes.length, server.argv, state);
    handler(client);
    client.w.reset();
  };
}

// A 4 KB bitmap stored inline-sized strings cannot hold, and a short one kept in the record.
runner("SETBIT", "big", "32767", "1")();
runner("SETBIT", "small", "100", "1")();

summary(() => {
  group("bitmap commands (handler only)", () => {
    bench("SETBIT small (in the record)", runner("SETBIT", "small", "77", "1"));
    bench("SETBIT big (own buffer)", runner("SETBIT", "big", "12345", "1"));
    bench("GETBIT big", runner("GETBIT", "big", "12345"));
    bench("BITCOUNT small", runner("BITCOUNT", "small"));
    bench("BITCOUNT big 4 KB", runner("BITCOUNT", "big"));
    bench("BITCOUNT big, bit range", runner("BITCOUNT", "big", "3", "30000", "BIT"));
    bench("BITPOS big 1", runner("BITPOS", "big", "1"));
    bench("BITFIELD INCRBY u8", runner("BITFIELD", "small", "INCRBY", "u8", "8", "1"));
  });
});

const RANDOM_MEGABYTE = Uint8Array.from({ length: 1 << 20 }, () => (Math.random() * 256) | 0);
const ZERO_MEGABYTE = new Uint8Array(1 << 20);
const ONES_MEGABYTE = new Uint8Array(1 << 20).fill(0xff);
const LAST_BIT = (1 << 23) - 1;
group("bit helpers over 1 MB", () => {
  bench("popcount", () => popcount(RANDOM_MEGABYTE, 0, RANDOM_MEGABYTE.length));
  bench("findBit 1 through zeros", () => findBit(ZERO_MEGABYTE, 0, 0, LAST_BIT, 1));
  bench("findBit 0 through ones", () => findBit(ONES_MEGABYTE, 0, 3, LAST_BIT, 0));
});

if (import.meta.main) await run();
