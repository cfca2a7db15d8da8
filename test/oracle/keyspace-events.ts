// Keyspace notifications as the tests compare them: one subscriber per server hears every
// event (PSUBSCRIBE __key*__:*) and a marker channel. After each step a test publishes to
// the marker; what a subscriber got before the marker's message is that step's events.

import { type RespConn, encodeCommand } from "./harness.ts";

/** Subscribe each connection to every keyspace event and to the marker channel. */
export async function listenForEvents(subs: readonly RespConn[], marker: string): Promise<void> {
  for (const sub of subs) {
    sub.write(encodeCommand(["PSUBSCRIBE", "__key*__:*"]));
    await sub.read();
    sub.write(encodeCommand(["SUBSCRIBE", marker]));
    await sub.read();
  }
}

/** The messages a subscriber got up to the marker's "end", each as its raw RESP bytes. */
export async function eventsUntilMarker(sub: RespConn, marker: string): Promise<string[]> {
  const end = `*3\r\n$7\r\nmessage\r\n$${marker.length}\r\n${marker}\r\n$3\r\nend\r\n`;
  const out: string[] = [];
  for (;;) {
    const message = await sub.read();
    if (message === end) return out;
    out.push(message);
  }
}
