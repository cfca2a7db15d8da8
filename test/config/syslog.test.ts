// syslog-enabled: redbun logs to stdout or to logfile only, so `syslog-enabled yes` is refused
// at start-up with a FATAL CONFIG FILE ERROR that names the directive, rather than accepted
// and silently ignored. `no` is accepted, and CONFIG SET answers as Redis does for an
// immutable parameter.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Oracle, REPO_ROOT } from "../oracle/harness.ts";

const REFUSAL = "syslog-enabled is not supported by redbun: it logs to stdout or to the file named by logfile";

let dir: string;
beforeAll(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "redbun-syslog-")));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs redbun with args (a config file first) until it exits; a server that starts is killed and reported as null. */
async function runRedbun(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const proc = Bun.spawn(["bun", "src/main.ts", ...args, "--port", "0"], { cwd: REPO_ROOT, stdout: "ignore", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
  const stderr = await new Response(proc.stderr).text();
  const code = await proc.exited;
  clearTimeout(timer);
  return { code: proc.signalCode === null ? code : null, stderr };
}

describe("syslog-enabled yes is refused at start-up", () => {
  test("in a config file, with the line that asked for it", async () => {
    const file = join(dir, "syslog.conf");
    writeFileSync(file, "port 0\nsyslog-enabled yes\n");
    const r = await runRedbun([file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'syslog-enabled yes'\n${REFUSAL}\n`);
  });

  test("as a command-line flag", async () => {
    const r = await runRedbun(["--syslog-enabled", "YES"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(">>> 'syslog-enabled \"YES\"'\n");
    expect(r.stderr).toEndWith(`${REFUSAL}\n`);
  });

  test("a value that is not yes or no keeps Redis's own error", async () => {
    const r = await runRedbun(["--syslog-enabled", "maybe"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toEndWith("argument must be 'yes' or 'no'\n");
  });
});

describe("syslog-enabled no and CONFIG SET", () => {
  let o: Oracle;
  beforeAll(async () => {
    o = await Oracle.start(["--syslog-enabled", "no"]);
  });
  afterAll(() => o.stop());

  test("no starts the server, and CONFIG GET reports it", async () => {
    expect(await o.same("CONFIG", "GET", "syslog-enabled")).toBe("*2\r\n$14\r\nsyslog-enabled\r\n$2\r\nno\r\n");
  });

  test("CONFIG SET refuses it as an immutable parameter, as Redis does", async () => {
    for (const value of ["yes", "no"]) {
      const reply = await o.same("CONFIG", "SET", "syslog-enabled", value);
      expect(reply).toStartWith("-ERR CONFIG SET failed (possibly related to argument 'syslog-enabled') - can't set immutable config");
    }
  });
});
