// Users kept in files, against the real redis-server: an aclfile loaded at start-up, by
// ACL LOAD and written by ACL SAVE (files of one server loaded by the other), `user`
// directives in redis.conf and their CONFIG REWRITE, and the start-up errors of both.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { REPO_ROOT, RespConn, freePort } from "../oracle/harness.ts";
import { sortRulesInReply, sortSingleRules } from "./normalize.ts";

const root = realpathSync(mkdtempSync(join(tmpdir(), "redbun-acl-")));
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Kind = "redis" | "redbun";
const KINDS: Kind[] = ["redis", "redbun"];

/** One server started on a config file in a directory of its own. */
class FileServer {
  constructor(
    readonly kind: Kind,
    readonly dir: string,
    readonly proc: Subprocess<"ignore", "pipe", "pipe">,
    readonly conn: RespConn,
  ) {}

  get conf(): string {
    return join(this.dir, "redis.conf");
  }

  get aclfile(): string {
    return join(this.dir, "users.acl");
  }

  /** Text with this server's directory replaced by {DIR}. */
  normalize(text: string): string {
    return text.replaceAll(this.dir, "{DIR}");
  }

  async stop(): Promise<void> {
    this.conn.close();
    this.proc.kill("SIGKILL");
    await this.proc.exited;
  }
}

let serial = 0;

/** Writes each server's directory (config {PORT}/{DIR} filled in, and `files`) and spawns it. */
function spawnIn(kind: Kind, config: string, files: Record<string, string>): { dir: string; port: number; proc: Subprocess<"ignore", "pipe", "pipe"> } {
  const dir = join(root, `${serial++}-${kind}`);
  mkdirSync(dir, { recursive: true });
  const port = freePort();
  writeFileSync(join(dir, "redis.conf"), config.replaceAll("{PORT}", String(port)).replaceAll("{DIR}", dir), "latin1");
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, "latin1");
  const cmd = kind === "redis" ? ["redis-server", join(dir, "redis.conf")] : ["bun", join(REPO_ROOT, "src/main.ts"), join(dir, "redis.conf")];
  const proc = Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe", cwd: kind === "redis" ? dir : REPO_ROOT });
  return { dir, port, proc };
}

const BASE = "port {PORT}\nbind 127.0.0.1\nsave \"\"\ndir \"{DIR}\"\n";

/** Both servers on the same config and files, each connected once it answers. */
async function startBoth(config: string, files: Record<string, string> = {}, auth: string[] = []): Promise<[FileServer, FileServer]> {
  return Promise.all(
    KINDS.map(async (kind) => {
      const { dir, port, proc } = spawnIn(kind, BASE + config, files);
      const deadline = Date.now() + 15000;
      for (;;) {
        if (proc.exitCode !== null) throw new Error(`${kind} exited with ${proc.exitCode}: ${await new Response(proc.stdout).text()}`);
        try {
          const conn = await RespConn.connect(port);
          if (auth.length > 0) await conn.call("AUTH", ...auth);
          if ((await conn.call("PING")) === "+PONG\r\n") return new FileServer(kind, dir, proc, conn);
          conn.close();
        } catch {
          // Not listening yet.
        }
        if (Date.now() > deadline) throw new Error(`${kind} did not answer`);
        await Bun.sleep(20);
      }
    }),
  ) as Promise<[FileServer, FileServer]>;
}

/** The same command on both, replies compared with their directories normalized and rule runs sorted. */
async function same(r: FileServer, b: FileServer, ...args: string[]): Promise<string> {
  const [want, got] = await Promise.all([r.conn.call(...args), b.conn.call(...args)]);
  expect(sortRulesInReply(b.normalize(got))).toBe(sortRulesInReply(r.normalize(want)));
  return want;
}

/** A users file with each line's single-command rules sorted. */
function normalizedAclFile(s: FileServer): string {
  return readFileSync(s.aclfile, "latin1").split("\n").map(sortSingleRules).join("\n");
}

/** Both servers started on a config that must stop them: exit codes and the lines that say why. */
async function failedStarts(config: string, files: Record<string, string>, marker: RegExp): Promise<string[][]> {
  return Promise.all(
    KINDS.map(async (kind) => {
      const { dir, proc } = spawnIn(kind, BASE + config, files);
      const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
      const lines = `${out}\n${err}`
        .split("\n")
        .map((l) => l.replace(/^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ [#*.-] /, "").replaceAll(dir, "{DIR}"))
        .filter((l) => marker.test(l));
      return [String(code), ...lines];
    }),
  );
}

const USERS = [
  "user alice on #" + "a".repeat(64) + " ~a:* &news resetchannels -@all +get +set",
  "user bob off nopass ~* &* +@all -flushall (~b* +@list)",
  "user default on nopass ~* &* +@all",
  "",
].join("\n");

describe("aclfile", () => {
  test("loaded at start-up, saved by ACL SAVE, loaded again by ACL LOAD", async () => {
    const [r, b] = await startBoth("aclfile {DIR}/users.acl\n", { "users.acl": USERS });
    try {
      await same(r, b, "ACL", "LIST");
      await same(r, b, "ACL", "SETUSER", "carol", "on", ">pw", "%R~c*", "+@hash");
      await same(r, b, "ACL", "DELUSER", "bob");
      await same(r, b, "ACL", "SAVE");
      expect(normalizedAclFile(b)).toBe(normalizedAclFile(r));
      // Edited by hand and loaded again.
      for (const s of [r, b]) writeFileSync(s.aclfile, `${readFileSync(s.aclfile, "latin1")}\nuser dave on >x +ping\n   \n`, "latin1");
      await same(r, b, "ACL", "LOAD");
      await same(r, b, "ACL", "LIST");
      // Without a default user the file gives the shipped one.
      for (const s of [r, b]) writeFileSync(s.aclfile, "user eve on nopass +@all ~*\n", "latin1");
      await same(r, b, "ACL", "SETUSER", "default", "resetpass", ">pw");
      await same(r, b, "ACL", "LOAD");
      await same(r, b, "ACL", "LIST");
    } finally {
      await Promise.all([r.stop(), b.stop()]);
    }
  });

  test("a relative aclfile name is taken from dir", async () => {
    const [r, b] = await startBoth("aclfile users.acl\n", { "users.acl": USERS });
    try {
      await same(r, b, "ACL", "LIST");
      await same(r, b, "ACL", "SETUSER", "zed", "on", "+@all");
      await same(r, b, "ACL", "SAVE");
      expect(normalizedAclFile(b)).toBe(normalizedAclFile(r));
      for (const s of [r, b]) writeFileSync(s.aclfile, "user x on +nocmd\n", "latin1");
      await same(r, b, "ACL", "LOAD");
    } finally {
      await Promise.all([r.stop(), b.stop()]);
    }
  });

  test("a file saved by one server loads in the other", async () => {
    const [r, b] = await startBoth("aclfile {DIR}/users.acl\n", { "users.acl": USERS });
    try {
      await same(r, b, "ACL", "SETUSER", "frank", "on", ">f", "~f*", "&f", "+@set", "-sadd", "+select|0", "(+get ~g*)");
      await same(r, b, "ACL", "SETUSER", "grace", "on", "+@all", "-@dangerous", "+config|get", "~*", "resetchannels");
      await r.conn.call("ACL", "SAVE");
      await b.conn.call("ACL", "SAVE");
      const fromRedis = readFileSync(r.aclfile, "latin1");
      const fromRedbun = readFileSync(b.aclfile, "latin1");
      writeFileSync(r.aclfile, fromRedbun, "latin1");
      writeFileSync(b.aclfile, fromRedis, "latin1");
      await same(r, b, "ACL", "LOAD");
      await same(r, b, "ACL", "LIST");
    } finally {
      await Promise.all([r.stop(), b.stop()]);
    }
  });

  test("ACL LOAD errors change nothing; replaced users' connections close", async () => {
    const [r, b] = await startBoth("aclfile {DIR}/users.acl\n", { "users.acl": USERS });
    try {
      const bad = [
        "user x on +nocmd\nuser y bogus\n",
        "notuser x\n",
        "user\n",
        "user x on\nuser x off\n",
        "user x (+get ~a\n",
        "user x on #short\n",
        "# comment\n",
        "user x on \"quoted\n",
      ];
      for (const text of bad) {
        for (const s of [r, b]) writeFileSync(s.aclfile, text, "latin1");
        await same(r, b, "ACL", "LOAD");
      }
      await same(r, b, "ACL", "LIST");
      for (const s of [r, b]) rmSync(s.aclfile);
      await same(r, b, "ACL", "LOAD");
      // A user's connection closes when ACL LOAD replaces the users, even with the same rules.
      for (const s of [r, b]) writeFileSync(s.aclfile, USERS, "latin1");
      await same(r, b, "ACL", "LOAD");
      const seen = await Promise.all(
        [r, b].map(async (s) => {
          const port = Number(/port (\d+)/.exec(readFileSync(s.conf, "latin1"))![1]);
          const alice = await RespConn.connect(port);
          await alice.call("ACL", "SETUSER", "alice", ">pw");
          const auth = await alice.call("AUTH", "alice", "pw");
          await s.conn.call("ACL", "LOAD");
          const closed = await alice.readUntilClosed();
          return [auth, closed];
        }),
      );
      expect(seen[1]).toEqual(seen[0]!);
    } finally {
      await Promise.all([r.stop(), b.stop()]);
    }
  });

  test("start-up: a broken aclfile, and an aclfile together with user directives, stop the server", async () => {
    const [r1, b1] = await failedStarts("aclfile {DIR}/users.acl\n", { "users.acl": "user x on +nocmd\n" }, /ACL/);
    expect(b1).toEqual(r1!);
    const [r2, b2] = await failedStarts("aclfile {DIR}/missing.acl\n", {}, /ACL/);
    expect(b2).toEqual(r2!);
    const [r3, b3] = await failedStarts("aclfile {DIR}/users.acl\nuser bob on\n", { "users.acl": "" }, /ACL file|users defined/);
    expect(b3).toEqual(r3!);
  });
});

describe("user directives", () => {
  test("users from redis.conf; they win over requirepass; CONFIG REWRITE writes them back", async () => {
    const config = "requirepass foo\nuser default on nopass ~* &* +@all\nuser alice on >pw ~k* +get (+set ~s*)\nuser bob\n";
    const [r, b] = await startBoth(config);
    try {
      await same(r, b, "ACL", "LIST");
      await same(r, b, "CONFIG", "GET", "requirepass");
      await same(r, b, "ACL", "SETUSER", "carol", "on", "#" + "c".repeat(64), "+@list", "%W~w");
      await same(r, b, "ACL", "DELUSER", "bob");
      await same(r, b, "CONFIG", "REWRITE");
      const users = (s: FileServer) =>
        readFileSync(s.conf, "latin1").split("\n").filter((l) => l.startsWith("user ")).map(sortSingleRules).sort();
      expect(users(b)).toEqual(users(r));
    } finally {
      await Promise.all([r.stop(), b.stop()]);
    }
  });

  test("rules name commands by their own names whatever rename-command did", async () => {
    const [r, b] = await startBoth("rename-command config cfg\nuser u on nopass ~* +config|get +get\n");
    try {
      await same(r, b, "ACL", "LIST");
      await same(r, b, "ACL", "SETUSER", "v", "on", "nopass", "+config", "-config|set");
      await same(r, b, "ACL", "SETUSER", "w", "+cfg");
      await same(r, b, "AUTH", "u", "x");
      await same(r, b, "CFG", "GET", "maxmemory");
      await same(r, b, "CFG", "SET", "maxmemory", "0");
      await same(r, b, "ACL", "DRYRUN", "v", "config", "get", "x");
      await same(r, b, "ACL", "DRYRUN", "v", "cfg", "get", "x");
    } finally {
      await Promise.all([r.stop(), b.stop()]);
    }
  });

  test("requirepass alone sets the default user's password at start-up", async () => {
    const [r, b] = await startBoth("requirepass s3cret\n", {}, ["s3cret"]);
    try {
      await same(r, b, "ACL", "LIST");
      await same(r, b, "ACL", "WHOAMI");
    } finally {
      await Promise.all([r.stop(), b.stop()]);
    }
  });

  test("bad directives stop start-up with Redis's messages", async () => {
    for (const line of ["user bob on bogus", "user bob on >x\nuser bob off", "user bob on (+get ~x", "user bob %X~a on", "user bob on #abc"]) {
      const [r, b] = await failedStarts(`${line}\n`, {}, /user declaration|>>>|line \d/);
      expect(b).toEqual(r!);
    }
    const [r, b] = await failedStarts("user bob on +nocmd\n", {}, /ACL/);
    expect(b).toEqual(r!);
  });
});
