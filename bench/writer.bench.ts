// The reply writer building the replies the server sends most, with mitata.
//
//   bun bench/writer.bench.ts        (or all suites: bun run bench:micro)
//
// Importing the file only registers the benchmarks, so micro.bench.ts can collect it with
// the other suites; run directly, it runs them. Each benchmark builds the replies of one
// 16-command pipeline into a reset writer, so the time per reply is the reported time
// divided by 16.
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { OK, ReplyWriter } from "../src/resp/writer.ts";
import { ERR } from "../src/resp/errors.ts";

const REPLIES_PER_PIPELINE = 16;

const w = new ReplyWriter();
/** A stored 32-byte value inside a larger buffer, as GET finds it. */
const store = new Uint8Array(4096).fill(118);
const VALUE_AT = 100;
const VALUE_BYTES = 32;
const keys = Array.from({ length: 10 }, (_, i) => `key:${String(i).padStart(12, "0")}`);

/** Build `replies` into the reset writer and return its length, so nothing is optimised away. */
function built(build: () => void): number {
  w.reset();
  build();
  return w.len;
}

group("build the replies of a 16-command pipeline (time / 16 = per reply)", () => {
  summary(() => {
    bench("SET/GET: +OK and a 32-byte bulk, 8 each", () =>
      do_not_optimize(
        built(() => {
          for (let i = 0; i < REPLIES_PER_PIPELINE / 2; i++) {
            w.addRaw(OK);
            w.addBulkView(store, VALUE_AT, VALUE_BYTES);
          }
        }),
      ),
    );

    bench("INCR: integers past the shared small ones", () =>
      do_not_optimize(
        built(() => {
          for (let i = 0; i < REPLIES_PER_PIPELINE; i++) w.addInteger(100000 + i);
        }),
      ),
    );

    bench("GET of integer values: addBulkInteger", () =>
      do_not_optimize(
        built(() => {
          for (let i = 0; i < REPLIES_PER_PIPELINE; i++) w.addBulkInteger((i - 8) * 1234567);
        }),
      ),
    );

    bench("MGET: arrays of 10 bulks", () =>
      do_not_optimize(
        built(() => {
          for (let i = 0; i < REPLIES_PER_PIPELINE; i++) {
            w.addArrayLen(10);
            for (let k = 0; k < 10; k++) w.addBulkView(store, VALUE_AT, VALUE_BYTES);
          }
        }),
      ),
    );

    bench("KEYS/SCAN: deferred arrays of 10 keys", () =>
      do_not_optimize(
        built(() => {
          for (let i = 0; i < REPLIES_PER_PIPELINE; i++) {
            const at = w.deferLen();
            for (const k of keys) w.addBulkLatin1(k);
            w.setDeferredLen(at, "array", keys.length);
          }
        }),
      ),
    );

    bench("RESP3 maps of 5 pairs", () => {
      w.resp = 3;
      const n = built(() => {
        for (let i = 0; i < REPLIES_PER_PIPELINE; i++) {
          w.addMapLen(5);
          for (let k = 0; k < 5; k++) {
            w.addBulkLatin1(keys[k]!);
            w.addInteger(k);
          }
        }
      });
      w.resp = 2;
      return do_not_optimize(n);
    });

    bench("errors: pre-encoded and formatted", () =>
      do_not_optimize(
        built(() => {
          for (let i = 0; i < REPLIES_PER_PIPELINE / 2; i++) {
            w.addErrorBytes(ERR.wrongType);
            w.addError("ERR unknown command 'FOO', with args beginning with: ");
          }
        }),
      ),
    );
  });
});

if (import.meta.main) await run();
