// ACL LOG (Redis's ACLLog): the latest denials, newest first. A denial like one of the ten
// newest entries (same reason, context, object and user, within 60 seconds) bumps that
// entry's count and moves it to the front instead of adding another; the list keeps at
// most acllog-max-len entries.

import type { ReplyWriter } from "../resp/writer.ts";

/** Why access was denied (Redis's ACL_DENIED_*: the numbers order the reasons' relevance). */
export const enum Denial {
  None = 0,
  Command = 1,
  Key = 2,
  Auth = 3,
  Channel = 4,
}

const REASON_NAMES = ["", "command", "key", "auth", "channel"];

/** Two denials this close in time (and alike) are one entry. */
const GROUPING_MAX_MS = 60000;
/** How many of the newest entries a denial is compared with. */
const GROUPING_SCAN = 10;

interface Entry {
  count: number;
  reason: Denial;
  /** "toplevel" or "multi". */
  context: string;
  /** The command, key or channel denied; for AUTH, the command name as sent. */
  object: string;
  username: string;
  /** When it last happened. */
  updatedMs: number;
  /** The client as CLIENT LIST showed it the last time. */
  clientInfo: string;
}

export class AclLog {
  /** Newest first. */
  private entries: Entry[] = [];

  add(reason: Denial, context: string, object: string, username: string, clientInfo: string, maxLen: number): void {
    const now = Date.now();
    const scan = Math.min(GROUPING_SCAN, this.entries.length);
    for (let i = 0; i < scan; i++) {
      const e = this.entries[i]!;
      if (e.reason !== reason || e.context !== context || Math.abs(e.updatedMs - now) > GROUPING_MAX_MS) continue;
      if (e.object !== object || e.username !== username) continue;
      e.count++;
      e.updatedMs = now;
      e.clientInfo = clientInfo;
      this.entries.splice(i, 1);
      this.entries.unshift(e);
      return;
    }
    this.entries.unshift({ count: 1, reason, context, object, username, updatedMs: now, clientInfo });
    if (this.entries.length > maxLen) this.entries.length = maxLen;
  }

  reset(): void {
    this.entries = [];
  }

  get length(): number {
    return this.entries.length;
  }

  /** ACL LOG [count]: the newest `count` entries as maps of seven fields. */
  reply(w: ReplyWriter, count: number): void {
    const n = Math.min(count, this.entries.length);
    const now = Date.now();
    w.addArrayLen(n);
    for (let i = 0; i < n; i++) {
      const e = this.entries[i]!;
      w.addMapLen(7);
      w.addBulkLatin1("count");
      w.addInteger(e.count);
      w.addBulkLatin1("reason");
      w.addBulkLatin1(REASON_NAMES[e.reason]!);
      w.addBulkLatin1("context");
      w.addBulkLatin1(e.context);
      w.addBulkLatin1("object");
      w.addBulkLatin1(e.object);
      w.addBulkLatin1("username");
      w.addBulkLatin1(e.username);
      w.addBulkLatin1("age-seconds");
      w.addDouble((now - e.updatedMs) / 1000);
      w.addBulkLatin1("client-info");
      w.addBulkLatin1(e.clientInfo);
    }
  }
}
