// Shared pieces of the AOF tests: servers started with persistence in a directory of their
// own, and AOF files read back as commands.

import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, RespConn, ServerProcess, freePort } from "../oracle/harness.ts";

/** A fresh empty directory for one server's files. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `redbun-${prefix}-`));
}

/** The AOF settings every test starts with (what makes the incr files comparable). */
export const AOF_ARGS = ["--appendonly", "yes", "--appendfsync", "always", "--aof-use-rdb-preamble", "no", "--enable-debug-command", "yes"];

export type Which = "redis" | "redbun";

/** The command line of a server with its files in `dir`, listening on `port`. */
function commandLine(which: Which, port: number, dir: string, args: string[]): string[] {
  const common = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir, ...args];
  return which === "redis" ? ["redis-server", ...common] : ["bun", "src/main.ts", ...common];
}

/** Start a server over `dir` and wait until it answers; the log goes to `dir`/log. */
export async function startIn(which: Which, dir: string, args: string[] = AOF_ARGS): Promise<ServerProcess> {
  const port = freePort();
  const proc = Bun.spawn(commandLine(which, port, dir, [...args, "--logfile", join(dir, `${which}.log`)]), {
    cwd: REPO_ROOT,
    stdout: "ignore",
    stderr: "ignore",
  });
  const deadline = Date.now() + 15000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${which} exited with ${proc.exitCode}:\n${readLog(dir, which)}`);
    try {
      const c = await RespConn.connect(port);
      const reply = await c.call("PING");
      c.close();
      if (reply === "+PONG\r\n") break;
    } catch {
      // Not listening yet (or still loading).
    }
    if (Date.now() > deadline) throw new Error(`${which} did not start:\n${readLog(dir, which)}`);
    await Bun.sleep(20);
  }
  return new ServerProcess(which, port, proc);
}

/** Run a server over `dir` that is expected to fail at start-up: its exit code and log. */
export async function startFailing(which: Which, dir: string, args: string[]): Promise<{ code: number; log: string }> {
  const proc = Bun.spawn(commandLine(which, freePort(), dir, [...args, "--logfile", join(dir, `${which}.log`)]), {
    cwd: REPO_ROOT,
    stdout: "ignore",
    stderr: "ignore",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 15000);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, log: readLog(dir, which) };
}

export function readLog(dir: string, which: Which): string {
  try {
    return readFileSync(join(dir, `${which}.log`), "latin1");
  } catch {
    return "";
  }
}

export const AOF_DIR = "appendonlydir";

/** The path of the AOF file of `dir` whose name ends with `suffix` (".1.incr.aof"). */
export function aofFile(dir: string, suffix: string): string {
  const name = readdirSync(join(dir, AOF_DIR)).find((f) => f.endsWith(suffix));
  if (name === undefined) throw new Error(`no AOF file *${suffix} in ${dir}`);
  return join(dir, AOF_DIR, name);
}

/** The commands of an AOF file, each as latin1 arguments; throws on anything but whole multibulk commands. */
export function readCommands(path: string): string[][] {
  const text = readFileSync(path, "latin1");
  const commands: string[][] = [];
  let pos = 0;
  const line = (): string => {
    const end = text.indexOf("\r\n", pos);
    if (end < 0) throw new Error(`torn line at ${pos} in ${path}`);
    const s = text.slice(pos, end);
    pos = end + 2;
    return s;
  };
  while (pos < text.length) {
    const header = line();
    if (!header.startsWith("*")) throw new Error(`expected a multibulk at ${pos} in ${path}: ${header}`);
    const args: string[] = [];
    for (let n = Number(header.slice(1)); n > 0; n--) {
      const len = Number(line().slice(1));
      args.push(text.slice(pos, pos + len));
      pos += len + 2;
    }
    commands.push(args);
  }
  return commands;
}

/** Waits until `check` holds, polling; the files of a server appear asynchronously. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}
