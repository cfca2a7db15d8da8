// Keyspace notifications (Redis's notify.c): with `notify-keyspace-events` enabling an
// event's class, each event is published twice over pub/sub: the event name on
// `__keyspace@<db>__:<key>` (class K) and the key on `__keyevent@<db>__:<event>` (class E).
//
// Commands call notifyArg (the key is an argument), notifyId (a live key's id), notifyBytes
// or notifyKey right where Redis calls notifyKeyspaceEvent, in the same order.
// Notifications are off by default and every write asks for one, so the question costs one
// integer test: the key string is built only when the classes say an event goes out and
// somebody is subscribed. Events that happen inside the keyspace arrive from the databases:
// `new` and `keymiss` through Db.notices (Redis's dbAdd and lookupKey), `expired` through
// the key-event hub. Each hook is attached only while its class is on, so that with
// notifications off the databases build no key string for them. Code outside a command
// (eviction's `evicted`) calls `server.notifications.notify(type, event, key, dbid)`.

import type { Client } from "./client.ts";
import type { Server } from "./server.ts";
import type { KeyListener } from "./key-events.ts";
import type { Db, KeyNotices } from "../store/db.ts";
import { latin1 } from "../resp/parser.ts";
import { NOTIFY } from "../config/params.ts";

export { NOTIFY };

/** Classes that publish on a channel of their own: without one of them nothing is sent. */
const CHANNEL_CLASSES = NOTIFY.KEYSPACE | NOTIFY.KEYEVENT;

export class KeyspaceNotifier implements KeyListener, KeyNotices {
  /**
   * The classes `notify-keyspace-events` enables, or 0 when it names no channel class (K or
   * E), since Redis then publishes nothing: every notified write tests this first.
   */
  flags = 0;
  private readonly server: Server;
  /** `__keyspace@<db>__:` and `__keyevent@<db>__:` for each database, built once. */
  private readonly keyspacePrefix: string[] = [];
  private readonly keyeventPrefix: string[] = [];

  constructor(server: Server) {
    this.server = server;
    for (const db of server.dbs) {
      this.keyspacePrefix.push(`__keyspace@${db.id}__:`);
      this.keyeventPrefix.push(`__keyevent@${db.id}__:`);
    }
    this.apply();
    server.config.onChange("notify-keyspace-events", () => this.apply());
  }

  /** Take a new `notify-keyspace-events` and attach the database hooks its classes need. */
  private apply(): void {
    const configured = this.server.config.notifyKeyspaceEvents;
    this.flags = configured & CHANNEL_CLASSES ? configured : 0;
    this.server.keyEvents.listen(this, (this.flags & NOTIFY.EXPIRED) !== 0);
    const notices = this.flags & (NOTIFY.NEW | NOTIFY.KEY_MISS) ? this : null;
    for (const db of this.server.dbs) db.notices = notices;
  }

  /** Redis's notifyKeyspaceEvent: publish `event` of class `type` for a key of database dbid. */
  notify(type: number, event: string, key: string, dbid: number): void {
    if (this.wants(type)) this.publish(event, key, dbid);
  }

  /** notify for the key held in buf[start .. start+len), made a string only if it is published. */
  notifyBytes(type: number, event: string, buf: Uint8Array, start: number, len: number, dbid: number): void {
    if (this.wants(type)) this.publish(event, latin1(buf, start, len), dbid);
  }

  /** notify for a live key of db, by id. */
  notifyId(type: number, event: string, db: Db, id: number): void {
    if (this.wants(type)) this.publish(event, db.table.keyString(id), db.id);
  }

  /** Whether an event of class `type` goes out now: its class is on and somebody listens. */
  private wants(type: number): boolean {
    return (this.flags & type) !== 0 && this.server.pubsub.listening;
  }

  /** Publish an event whose class is enabled, on the channels the flags ask for. */
  private publish(event: string, key: string, dbid: number): void {
    const pubsub = this.server.pubsub;
    if (this.flags & NOTIFY.KEYSPACE) pubsub.publish(this.keyspacePrefix[dbid]! + key, event);
    if (this.flags & NOTIFY.KEYEVENT) pubsub.publish(this.keyeventPrefix[dbid]! + event, key);
  }

  // KeyListener: the hub reports expiries while the `x` class is on.

  keyModified(): void {}

  keyExpired(db: Db, key: string): void {
    this.notify(NOTIFY.EXPIRED, "expired", key, db.id);
  }

  // KeyNotices: the databases report new keys and read misses while `n` or `m` is on.

  keyAdded(db: Db, id: number): void {
    this.notifyId(NOTIFY.NEW, "new", db, id);
  }

  keyMissed(db: Db, buf: Uint8Array, start: number, len: number): void {
    this.notifyBytes(NOTIFY.KEY_MISS, "keymiss", buf, start, len, db.id);
  }
}

/** Redis's notifyKeyspaceEvent for the key in argument i of c's command, in c's database. */
export function notifyArg(c: Client, type: number, event: string, i: number): void {
  if ((c.server.notifications.flags & type) !== 0) notifyArgIn(c, c.db, type, event, i);
}

/** notifyArg for the key in argument i as a key of db (MOVE's and COPY's destination database). */
export function notifyArgIn(c: Client, db: Db, type: number, event: string, i: number): void {
  const notifier = c.server.notifications;
  if ((notifier.flags & type) === 0) return;
  const argv = c.argv;
  notifier.notifyBytes(type, event, argv.buf, argv.start[i]!, argv.len[i]!, db.id);
}

/** notifyArg for a key given by its bytes, buf[start .. start+len). */
export function notifyBytes(c: Client, type: number, event: string, buf: Uint8Array, start: number, len: number): void {
  const notifier = c.server.notifications;
  if ((notifier.flags & type) !== 0) notifier.notifyBytes(type, event, buf, start, len, c.db.id);
}

/** notifyArg for a live key given by its id, of c's database unless db says (call it before deleting the key). */
export function notifyId(c: Client, type: number, event: string, id: number, db = c.db): void {
  const notifier = c.server.notifications;
  if ((notifier.flags & type) !== 0) notifier.notifyId(type, event, db, id);
}

/** notifyArg for a key of c's database held as a latin1 string. */
export function notifyKey(c: Client, type: number, event: string, key: string): void {
  const notifier = c.server.notifications;
  if ((notifier.flags & type) !== 0) notifier.notify(type, event, key, c.db.id);
}
