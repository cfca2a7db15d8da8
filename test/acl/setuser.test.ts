// ACL SETUSER, GETUSER, LIST, USERS, DELUSER, CAT, GENPASS and HELP against the real
// redis-server: rules round-trip to the same descriptions, bad rules fail with the same
// errors, and a seeded fuzzer of rule lists compares GETUSER and LIST after each change.
// Only the categories and commands both servers have are used, since Redis describes a
// user's commands with its whole table.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, bulkArray, rng } from "../oracle/harness.ts";
import { seedFromEnv } from "../oracle/fuzz.ts";
import { sortRulesInReply, sortSingleRules } from "./normalize.ts";
import { type Reply, decodeReply } from "../oracle/resp.ts";

let o: Oracle;
/** Categories whose commands are the same on both servers. */
let sharedCategories: string[] = [];
/** Commands (and container|subcommand names) both servers have. */
let sharedCommands: string[] = [];
/** The arity of each shared command. */
const arities = new Map<string, number>();
/** The commands redbun has (containers and plain commands). */
const redbunCommands = new Set<string>();

beforeAll(async () => {
  o = await Oracle.start();
  const cats = bulkArray(await o.same("ACL", "CAT"));
  for (const cat of cats) {
    const [r, b] = await o.both("ACL", "CAT", cat);
    if (JSON.stringify(bulkArray(r).sort()) === JSON.stringify(bulkArray(b).sort())) sharedCategories.push(cat);
  }
  const all = new Set<string>();
  for (const cat of cats) for (const name of bulkArray((await o.both("ACL", "CAT", cat))[1])) all.add(name);
  const inRedis = new Set<string>();
  for (const cat of cats) for (const name of bulkArray((await o.both("ACL", "CAT", cat))[0])) inRedis.add(name);
  sharedCommands = [...all].filter((n) => inRedis.has(n)).sort();
  for (const name of sharedCommands) {
    const info = decodeReply(await o.b.call("COMMAND", "INFO", name)) as Reply[][];
    arities.set(name, info[0]![1] as number);
  }
  for (const name of all) redbunCommands.add(name.split("|")[0]!);
});
afterAll(() => o.stop());
beforeEach(async () => {
  const users = bulkArray(await o.same("ACL", "USERS")).filter((u) => u !== "default");
  if (users.length > 0) await o.same("ACL", "DELUSER", ...users);
  await o.same("ACL", "SETUSER", "default", "reset", "on", "nopass", "~*", "&*", "+@all");
});

/** GETUSER and LIST agree once single-command rules are compared as sets. */
async function sameUser(name: string): Promise<void> {
  for (const args of [["ACL", "GETUSER", name], ["ACL", "LIST"]]) {
    const [r, b] = await o.both(...args);
    expect(sortRulesInReply(b)).toBe(sortRulesInReply(r));
  }
}

describe("rules round-trip", () => {
  const cases: string[][] = [
    [],
    ["on", ">p1", "~foo", "%R~bar", "%W~baz", "%RW~q", "&ch", "+get", "+@string", "-set", "+config|get", "+select|0", "(~x +set)"],
    ["on", "nopass", "allkeys", "allchannels", "allcommands"],
    ["~*", "&*", "+@all", "-@hash", "+hget", "-config"],
    ["%R~a*", "%W~b*", "%R~c", "%W~c", "~d", "%R~d"],
    ["+@set", "+@sortedset", "-@write"],
    ["+@all", "-@keyspace", "+del", "-client|kill", "+select|1", "+select|2"],
    ["+select|0", "+select|1", "-select"],
    ["+select|0", "+select|1", "+select"],
    ["+select|A", "+select|a", "+SELECT|b"],
    ["#" + "a".repeat(64), ">x", "<x", "#" + "b".repeat(64), "!" + "a".repeat(64)],
    [">a", ">b", "nopass", ">c", "resetpass"],
    ["(+get ~k1)", "(+set %W~k2 &c)", "(allcommands allkeys allchannels)", "clearselectors", "(+@list)"],
    ["(+get", "~k1)", "(", "+set", ")", "()"],
    ["ON", "AllKeys", "ALLCHANNELS", "NoCommands", "+GET", "-@STRING", "SKIP-SANITIZE-PAYLOAD"],
    ["sanitize-payload", "skip-sanitize-payload", "sanitize-payload"],
    ["on", ">p", "~k", "&c", "+@all", "(+get)", "reset"],
    ["", "on", ""],
    ["~a", "~a", "&b", "&b", "%R~a"],
    ["%R~", "~", "&"],
    ["+@pubsub", "-publish", "+client", "-client|list", "+object|encoding"],
  ];
  for (const rules of cases) {
    test(JSON.stringify(rules), async () => {
      await o.same("ACL", "SETUSER", "u", ...rules);
      await sameUser("u");
      await o.same("ACL", "USERS");
    });
  }

  test("rules add to an existing user; a failed SETUSER changes nothing", async () => {
    await o.same("ACL", "SETUSER", "u", "on", ">p", "~a", "+get");
    await o.same("ACL", "SETUSER", "u", "~b", "+set", "bogus");
    await sameUser("u");
    await o.same("ACL", "SETUSER", "u", "~b", "+set", "-@list");
    await sameUser("u");
    // A failed SETUSER of a new user creates nothing.
    await o.same("ACL", "SETUSER", "v", "on", "+nocommand");
    await o.same("ACL", "USERS");
    await o.same("ACL", "GETUSER", "v");
  });

  test("users list in name order; DELUSER counts the users it removed", async () => {
    for (const name of ["b", "a", "c", "ab", "B", "\xe9"]) await o.same("ACL", "SETUSER", name);
    await o.same("ACL", "USERS");
    await o.same("ACL", "LIST");
    await o.same("ACL", "DELUSER", "a", "nope", "ab", "a");
    await o.same("ACL", "DELUSER", "b", "default");
    await o.same("ACL", "USERS");
  });

  test("acl-pubsub-default decides the channels of new users and selectors, and of reset", async () => {
    await o.same("CONFIG", "SET", "acl-pubsub-default", "allchannels");
    try {
      await o.same("ACL", "SETUSER", "u", "on", "(+get)");
      await o.same("ACL", "SETUSER", "v", "&x");
      await o.same("ACL", "SETUSER", "w", "resetchannels", "&x", "reset");
      await sameUser("u");
    } finally {
      await o.same("CONFIG", "SET", "acl-pubsub-default", "resetchannels");
    }
    await o.same("ACL", "SETUSER", "x", "(+get)");
    await sameUser("x");
  });

  test("GETUSER in RESP3", async () => {
    const [r, b] = await o.connectResp3();
    await o.same("ACL", "SETUSER", "u", "on", ">p", "~a", "&c", "+get", "(+set ~b)");
    expect(sortRulesInReply(await b.call("ACL", "GETUSER", "u"))).toBe(sortRulesInReply(await r.call("ACL", "GETUSER", "u")));
    expect(await b.call("ACL", "GETUSER", "nope")).toBe(await r.call("ACL", "GETUSER", "nope"));
  });
});

describe("errors", () => {
  test("bad rules name the rule and the reason", async () => {
    await o.same("ACL", "SETUSER", "all", "~*", "&*");
    for (const rules of [
      ["~foo"], ["&foo"], ["%RW~*"], ["%X~a"], ["%RR~a"], ["%R~a b"], ["~a\tb"], ["&a b"], ["bogus"], ["+nocmd"], ["-nocmd"],
      ["+@nocat"], ["-@nocat"], ["+config|get|x"], ["-config|get|x"], ["+select|"], ["-select|0"], ["+config|nosub"],
      ["#abc"], ["#" + "A".repeat(64)], ["!" + "g".repeat(64)], ["<nope"], ["(bogus)"], ["(+get ~a b)"], ["+"], ["-"], ["+@"],
    ]) {
      await o.same("ACL", "SETUSER", "u", ...rules);
      await o.same("ACL", "SETUSER", "all", ...rules);
    }
    await o.same("ACL", "SETUSER", "u", "(+get", "~x");
    await o.same("ACL", "SETUSER", "u", "on", "(+get", "~x", "(+set)");
    await o.same("ACL", "SETUSER", "a b");
    await o.same("ACL", "SETUSER", "a\x00b");
    await sameUser("all");
  });

  test("subcommand arity and syntax errors", async () => {
    for (const args of [
      ["ACL"], ["ACL", "NOPE"], ["ACL", "GETUSER"], ["ACL", "GETUSER", "a", "b"], ["ACL", "LIST", "x"], ["ACL", "USERS", "x"],
      ["ACL", "WHOAMI", "x"], ["ACL", "CAT", "read", "x"], ["ACL", "GENPASS", "1", "2"], ["ACL", "LOG", "1", "2"], ["ACL", "DELUSER"],
      ["ACL", "SETUSER"], ["ACL", "DRYRUN", "default"], ["ACL", "DRYRUN", "default", "get"], ["ACL", "HELP", "x"], ["ACL", "LOAD", "x"],
      ["ACL", "SAVE", "x"], ["ACL", "LOAD"], ["ACL", "SAVE"], ["ACL", "DELUSER", "default"], ["ACL", "DELUSER", "x", "default"],
    ]) {
      await o.same(...args);
    }
  });
});

describe("CAT, GENPASS, HELP, WHOAMI", () => {
  test("ACL CAT lists Redis's categories; a category lists the same commands where both servers have them", async () => {
    await o.same("ACL", "CAT");
    await o.same("ACL", "CAT", "nope");
    await o.same("ACL", "CAT", "x".repeat(200));
    expect(sharedCategories).toContain("keyspace");
    for (const cat of sharedCategories) {
      const [r, b] = await o.both("ACL", "CAT", cat.toUpperCase());
      expect(bulkArray(b).sort()).toEqual(bulkArray(r).sort());
    }
    // Subcommands are named container|sub.
    expect(bulkArray((await o.both("ACL", "CAT", "admin"))[1])).toContain("config|set");
  });

  test("GENPASS: 256 bits unless told, rounded up to hex digits; bad sizes", async () => {
    for (const bits of [undefined, "1", "4", "5", "7", "255", "4096"]) {
      const args = bits === undefined ? ["ACL", "GENPASS"] : ["ACL", "GENPASS", bits];
      const [r, b] = await o.both(...args);
      const len = (s: string) => /^\$(\d+)\r\n/.exec(s)![1];
      expect(len(b)).toBe(len(r));
      expect(b).toMatch(/^\$\d+\r\n[0-9a-f]+\r\n$/);
    }
    const [one, two] = await Promise.all([o.b.call("ACL", "GENPASS"), o.b.call("ACL", "GENPASS")]);
    expect(one).not.toBe(two);
    for (const bits of ["0", "-1", "4097", "x", "1.5"]) await o.same("ACL", "GENPASS", bits);
  });

  test("HELP and WHOAMI", async () => {
    await o.same("ACL", "HELP");
    await o.same("acl", "help");
    await o.same("ACL", "WHOAMI");
  });
});

/** One random rule, from the categories and commands both servers share. */
function randomRule(random: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const pattern = () => pick(["a", "b*", "k?", "*", "[ab]c", "x\\*", ""]);
  const command = () => pick([...sharedCommands.slice(0, 40), ...pick([sharedCommands, ["get", "set", "config|get", "client|list", "select"]])]);
  const kind = Math.floor(random() * 16);
  switch (kind) {
    case 0:
      return pick(["on", "off", "nopass", "resetpass", "reset", "skip-sanitize-payload", "sanitize-payload", "ON", "Off"]);
    case 1:
      return pick([">p1", ">p2", "<p1", "<p2", "#" + "c".repeat(64), "!" + "c".repeat(64), "#bad"]);
    case 2:
      return pick(["~", "%R~", "%W~", "%RW~", "%WR~"]) + pattern();
    case 3:
      return pick(["allkeys", "resetkeys", "~*", "ALLKEYS"]);
    case 4:
      return `&${pattern()}`;
    case 5:
      return pick(["allchannels", "resetchannels", "&*"]);
    case 6:
    case 7:
      return `${pick(["+", "-"])}@${pick(sharedCategories)}`;
    case 8:
      return pick(["allcommands", "nocommands", "+@all", "-@all"]);
    case 9:
    case 10:
    case 11:
      return `${pick(["+", "-"])}${command()}`;
    case 12:
      return pick(["+select|0", "+select|1", "+select|X", "-select", "+config|get", "-config|set", "+config", "-config"]);
    case 13:
      return pick(["+nocmd", "-select|0", "+config|get|x", "bogus", "(bogus)"]);
    case 14: {
      const n = Math.floor(random() * 3);
      const inner: string[] = [];
      for (let i = 0; i < n; i++) inner.push(randomRule(random).replace(/[()]/g, ""));
      return `(${inner.filter((r) => r !== "" && !/[ ]/.test(r)).join(" ")})`;
    }
    default:
      return pick(["clearselectors", ""]);
  }
}

/**
 * GETUSER on both, compared exactly but for the command rules, which may only denote the
 * same commands: Redis describes them with categories holding commands redbun lacks, so
 * its best-fitting categories can differ. Both descriptions, minus rules for commands
 * redbun lacks, are applied to scratch users on redbun, whose bitmaps must then match.
 */
const describedAlike = new Set<string>(["default"]);

async function sameUserModuloTable(name: string): Promise<void> {
  const [r, b] = await o.both("ACL", "GETUSER", name);
  if (sortRulesInReply(b) === sortRulesInReply(r)) {
    describedAlike.add(name);
    // ACL LIST is compared for the users described alike.
    const [rl, bl] = await o.both("ACL", "LIST");
    const lines = (reply: string) => bulkArray(reply).filter((l) => describedAlike.has(l.split(" ")[1]!)).map(sortSingleRules);
    expect(lines(bl)).toEqual(lines(rl));
    return;
  }
  describedAlike.delete(name);
  const fields = (reply: string) => decodeReply(reply) as Reply[];
  const [rf, bf] = [fields(r), fields(b)];
  const commands = (f: Reply[]) => [f[5] as string, ...(f[11] as Reply[][]).map((s) => s[1] as string)];
  const rest = (f: Reply[]) => [f.slice(0, 5), f.slice(6, 11), (f[11] as Reply[][]).map((s) => s.slice(2))];
  expect(rest(bf)).toEqual(rest(rf));
  const [rc, bc] = [commands(rf), commands(bf)];
  for (let i = 0; i < rc.length; i++) {
    const known = rc[i]!.split(" ").filter((t) => !/^[+-][^@]/.test(t) || redbunCommands.has(t.slice(1).split("|")[0]!));
    await o.b.call("ACL", "SETUSER", "cmp-redis", "reset", ...known);
    await o.b.call("ACL", "SETUSER", "cmp-redbun", "reset", ...bc[i]!.split(" "));
    const [fromRedis, fromRedbun] = [await o.b.call("ACL", "GETUSER", "cmp-redis"), await o.b.call("ACL", "GETUSER", "cmp-redbun")];
    expect(fromRedbun).toBe(fromRedis);
  }
  await o.b.call("ACL", "DELUSER", "cmp-redis", "cmp-redbun");
}

test("fuzz: random rule lists give the same users", async () => {
  const seed = seedFromEnv();
  const random = rng(seed);
  try {
    for (let round = 0; round < 300; round++) {
      const user = `f${Math.floor(random() * 3)}`;
      const rules: string[] = [];
      const n = 1 + Math.floor(random() * 6);
      for (let i = 0; i < n; i++) rules.push(randomRule(random));
      await o.same("ACL", "SETUSER", user, ...rules);
      await sameUserModuloTable(user);
    }
  } catch (e) {
    throw new Error(`seed ${seed}: ${(e as Error).message}`);
  }
});

test("fuzz: DRYRUN gives the same verdicts for random users and command lines", async () => {
  const seed = seedFromEnv();
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const words = ["a1", "r1", "w1", "rw", "ch1", "news.x", "n*", "k", "2", "1", "GET", "STORE", "LEFT", "BY", "x*"];
  try {
    for (let round = 0; round < 40; round++) {
      const rules = ["reset"];
      for (let i = 0; i < 1 + Math.floor(random() * 5); i++) {
        rules.push(pick(["~a*", "%R~r*", "%W~w*", "%RW~rw", "~*", "%R~*", "&ch*", "&news.*", "&*", "&n*"]));
      }
      if (random() < 0.5) rules.push("+@all");
      else for (let i = 0; i < 1 + Math.floor(random() * 4); i++) rules.push(randomRule(random).replace(/^(reset|off|on)$/i, "+@all"));
      await o.same("ACL", "SETUSER", "d", ...rules);
      for (let i = 0; i < 25; i++) {
        const name = pick(sharedCommands);
        const args = name.split("|");
        // Mostly as many arguments as the command takes, so that the check gets to its keys.
        const arity = arities.get(name) ?? -1;
        const count = random() < 0.8 ? (arity > 0 ? arity : -arity + Math.floor(random() * 3)) : Math.floor(random() * 5);
        while (args.length < count) args.push(pick(words));
        await o.same("ACL", "DRYRUN", "d", ...args);
      }
    }
  } catch (e) {
    throw new Error(`seed ${seed}: ${(e as Error).message}`);
  }
});
