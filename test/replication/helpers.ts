// What the replication tests share: INFO fields, polling, and waiting for a replica to
// have applied everything its master sent.

import type { RespConn } from "../oracle/harness.ts";

/** One field of an INFO reply. */
export function infoField(info: string, name: string): string | undefined {
  const line = info.split("\r\n").find((l) => l.startsWith(`${name}:`));
  return line?.slice(name.length + 1);
}

/** Polls until `check` holds, at most timeoutMs. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** Waits until `replica` has the link up and has processed everything `master` has sent. */
export async function waitCaughtUp(master: RespConn, replica: RespConn, timeoutMs = 10000): Promise<void> {
  await waitFor(
    "the replica to catch up",
    async () => {
      const info = await replica.call("INFO", "replication");
      if (infoField(info, "master_link_status") !== "up") return false;
      const sent = infoField(await master.call("INFO", "replication"), "master_repl_offset");
      return sent !== undefined && sent === infoField(info, "slave_repl_offset");
    },
    timeoutMs,
  );
}
