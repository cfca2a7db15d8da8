// MONITOR (Redis's replicationFeedMonitors): every command that ran, after it ran, as one
// line to each monitoring client:
//   +1339518083.107412 [0 127.0.0.1:60866] "keys" "*"
// Admin commands and those flagged skip_monitor are left out, as are commands refused
// before running; secrets (AUTH's arguments, HELLO's AUTH pair) show as "(redacted)".

import type { Argv } from "../resp/parser.ts";
import type { Client } from "./client.ts";
import { catRepr } from "../config/parse.ts";

export class Monitors {
  /** The clients in MONITOR mode, in the order they started. */
  readonly clients = new Set<Client>();
  /** Arguments of the running command to show as "(redacted)" (Redis's redactClientCommandArgument). */
  private readonly redacted: number[] = [];

  get active(): boolean {
    return this.clients.size > 0;
  }

  /**
   * Hide argument i of the running command from monitors and the slow log, which reads the
   * same list; the server clears it after every command.
   */
  redact(i: number): void {
    this.redacted.push(i);
  }

  /** Whether the running command asked to hide argument i. */
  isRedacted(i: number): boolean {
    return this.redacted.length !== 0 && this.redacted.includes(i);
  }

  /** Send the command in argv, run by `c` in database dbId, to every monitor. */
  feed(c: Client, dbId: number, argv: Argv): void {
    const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    const seconds = Math.floor(us / 1e6);
    // A script's commands show as run by "lua", as Redis's script client's.
    let line = `+${seconds}.${String(us - seconds * 1e6).padStart(6, "0")} [${dbId} ${c.inScript ? "lua" : c.addr}]`;
    for (let i = 0; i < argv.count; i++) line += this.isRedacted(i) ? ' "(redacted)"' : ` ${catRepr(argv.str(i))}`;
    // One encoding for every monitor; the line is latin1, one char per byte.
    const bytes = Buffer.from(`${line}\r\n`, "latin1");
    for (const m of this.clients) c.server.deliver(m, bytes);
  }

  /** Forget the running command's redactions; the server calls this after every command. */
  clearRedactions(): void {
    if (this.redacted.length !== 0) this.redacted.length = 0;
  }
}
