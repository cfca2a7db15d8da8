// The log line format, levels, destinations and start-up lines, checked against what
// redis-server 7.0.15 writes.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Config } from "../../src/config/params.ts";
import { configSetArgs, loadConfigText } from "../../src/config/parse.ts";
import { LOG_MAX_LEN, Logger, formatLogLine, formatLogTime } from "../../src/log/log.ts";

const LINE = /^(\d+):([MSCX]) (\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3}) ([.\-*#]) (.*)\n$/;
const ANSI = /\x1b\[[0-9;]*m/;

/** A logger writing into an array. */
function capture(cfg: Config | null = null, opts: { isTTY?: boolean; now?: () => number } = {}) {
  const lines: string[] = [];
  const log = new Logger(cfg, { sink: (l) => lines.push(l), isTTY: opts.isTTY ?? false, pid: 4242, now: opts.now });
  return { log, lines };
}

describe("line format", () => {
  test("pid:role dd Mon yyyy hh:mm:ss.mmm <level> message", () => {
    const { log, lines } = capture(null, { now: () => 1764094321123 });
    log.warning("hello");
    const m = LINE.exec(lines[0]!);
    expect(m).not.toBeNull();
    expect(m![1]).toBe("4242");
    expect(m![2]).toBe("C");
    expect(m![3]!.endsWith(".123")).toBe(true);
    expect(m![4]).toBe("#");
    expect(m![5]).toBe("hello");
  });

  test("the timestamp is strftime's local time, as `date` prints it", async () => {
    for (const ms of [0, 1764094321123, 1709251199999, 951782400000]) {
      const sec = Math.floor(ms / 1000);
      const proc = Bun.spawn(["date", "-d", `@${sec}`, "+%d %b %Y %H:%M:%S"], { stdout: "pipe", env: { ...process.env, LC_ALL: "C" } });
      const want = (await new Response(proc.stdout).text()).trim();
      expect(formatLogTime(ms)).toBe(`${want}.${String(ms % 1000).padStart(3, "0")}`);
    }
  });

  test("level characters", () => {
    expect(formatLogLine(1, "M", 0, "debug", "x")).toMatch(/ \. x\n$/);
    expect(formatLogLine(1, "M", 0, "verbose", "x")).toMatch(/ - x\n$/);
    expect(formatLogLine(1, "S", 0, "notice", "x")).toMatch(/^1:S .* \* x\n$/);
    expect(formatLogLine(1, "X", 0, "warning", "x")).toMatch(/^1:X .* # x\n$/);
  });

  test("the same shape as a real redis-server line", async () => {
    const proc = Bun.spawn(["redis-server", "--port", "0"], { stdout: "pipe", stderr: "ignore", cwd: tmpdir() });
    const out = await new Response(proc.stdout).text();
    await proc.exited;
    const first = out.split("\n")[0]! + "\n";
    expect(first).toMatch(LINE);
    const { log, lines } = capture();
    log.warning("x");
    // Same field widths: only the pid and the message differ in length.
    const strip = (l: string) => l.replace(/^\d+/, "P").replace(/\d/g, "9").replace(/ # .*\n$/, " # M\n");
    expect(strip(lines[0]!)).toBe(strip(first));
  });

  test("messages are cut at LOG_MAX_LEN - 1 bytes", () => {
    const { log, lines } = capture();
    log.notice("a".repeat(5000));
    expect(LINE.exec(lines[0]!)![5]!.length).toBe(LOG_MAX_LEN - 1);
  });

  test("the role follows the server", () => {
    const { log, lines } = capture();
    log.notice("before");
    log.role = "M";
    log.notice("after");
    log.role = "S";
    log.notice("replica");
    expect(lines.map((l) => LINE.exec(l)![2])).toEqual(["C", "M", "S"]);
  });

  test("signal handler lines", () => {
    const { log, lines } = capture(null, { now: () => 1795630625123 });
    log.fromSignalHandler("Received SIGTERM scheduling shutdown...");
    expect(lines).toEqual(["4242:signal-handler (1795630625) Received SIGTERM scheduling shutdown...\n"]);
  });
});

describe("levels", () => {
  test("loglevel filters, default notice", () => {
    const { log, lines } = capture();
    log.debug("d");
    log.verbose("v");
    log.notice("n");
    log.warning("w");
    expect(lines.map((l) => LINE.exec(l)![5])).toEqual(["n", "w"]);
    expect(log.enabled("verbose")).toBe(false);
    expect(log.enabled("warning")).toBe(true);
  });

  test("loglevel from the config, and CONFIG SET loglevel takes effect", () => {
    const cfg = new Config();
    loadConfigText(cfg, "loglevel debug\n");
    const { log, lines } = capture(cfg);
    log.debug("d1");
    expect(configSetArgs(cfg, ["loglevel", "warning"])).toBeNull();
    log.debug("d2");
    log.notice("n2");
    log.warning("w2");
    expect(lines.map((l) => LINE.exec(l)![4] + LINE.exec(l)![5])).toEqual([".d1", "#w2"]);
  });
});

describe("destinations", () => {
  test("logfile appends to the file, relative to dir, never coloured", () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), "redbun-log-")));
    const cfg = new Config();
    loadConfigText(cfg, `dir ${dir}\nlogfile redbun.log\n`);
    const log = new Logger(cfg, { isTTY: true, pid: 7 });
    log.notice("one");
    log.warning("two \xe9");
    const text = readFileSync(join(dir, "redbun.log"), "latin1");
    const lines = text.split(/(?<=\n)/);
    expect(lines.length).toBe(2);
    expect(LINE.exec(lines[0]!)![5]).toBe("one");
    expect(LINE.exec(lines[1]!)![5]).toBe("two \xe9"); // latin1 binary string written as its bytes
    expect(text).not.toMatch(ANSI);
    rmSync(dir, { recursive: true, force: true });
  });

  test("stdout is coloured only on a terminal", () => {
    const tty = capture(null, { isTTY: true });
    tty.log.warning("w");
    tty.log.notice("n");
    expect(tty.lines[0]).toMatch(ANSI);
    expect(tty.lines[0]!.replace(/\x1b\[[0-9;]*m/g, "")).toMatch(LINE);
    const plain = capture(null, { isTTY: false });
    plain.log.warning("w");
    expect(plain.lines[0]).not.toMatch(ANSI);
  });
});

describe("start-up lines", () => {
  test("banner: Redis 7.0.15's lines, levels and role, naming redbun", async () => {
    const proc = Bun.spawn(["redis-server", "--port", "0"], { stdout: "pipe", stderr: "ignore", cwd: tmpdir() });
    const redisLines = (await new Response(proc.stdout).text()).split(/(?<=\n)/).slice(0, 3);
    await proc.exited;
    const { log, lines } = capture();
    log.startupBanner("0.1.0");
    const norm = (l: string) => {
      const m = LINE.exec(l)!;
      return `${m[2]} ${m[4]} ${m[5]}`
        .replace(/Redis|redbun/g, "NAME")
        .replace(/version=[0-9.]+/, "version=V")
        .replace(/pid=\d+/, "pid=P");
    };
    expect(lines.map(norm)).toEqual(redisLines.map(norm));
  });

  test("banner without arguments warns about the default config", () => {
    const { log, lines } = capture();
    log.startupBanner("0.1.0", { noArguments: true, execName: "./redbun" });
    expect(LINE.exec(lines[2]!)![5]).toBe(
      "Warning: no config file specified, using the default config. In order to specify a config file use ./redbun /path/to/redis.conf",
    );
  });

  test("running mode line, or the logo when asked for", () => {
    const plain = capture(new Config());
    plain.log.logoOrRunningMode("0.1.0", 6379);
    expect(plain.lines.map((l) => LINE.exec(l)![4] + " " + LINE.exec(l)![5])).toEqual(["* Running mode=standalone, port=6379."]);

    const cfg = new Config();
    loadConfigText(cfg, "always-show-logo yes\n");
    const logo = capture(cfg);
    logo.log.logoOrRunningMode("0.1.0", 7000);
    const text = logo.lines.join("");
    expect(text).not.toMatch(LINE);
    expect(text).toContain("redbun 0.1.0 (Redis 7.0.15 compatible) 64 bit");
    expect(text).toContain("Running in standalone mode");
    expect(text).toContain("Port: 7000");
    expect(text).toContain("PID: 4242");
  });

  test("initialised and ready lines use Redis 7.0.15's levels and texts", () => {
    const { log, lines } = capture();
    log.role = "M";
    log.serverInitialized();
    log.readyToAcceptConnections();
    expect(lines.map((l) => LINE.exec(l)!.slice(2, 6).join("|").replace(/\|[^|]*\|/, "|"))).toEqual([
      "M|#|Server initialized",
      "M|*|Ready to accept connections",
    ]);
  });
});
