// Stream consumer group replies and logs carry the clock: delivery times, consumers'
// seen-time and idle times. Two servers never agree on those to the millisecond, so the
// stream tests compare them with these numbers replaced.

/**
 * A RESP reply with its clock-dependent numbers replaced: millisecond timestamps (13
 * digits, integers or bulk strings), XINFO CONSUMERS' idle, XPENDING's per-entry idle.
 */
export function normalizeTimes(reply: string): string {
  return reply
    .replace(/:\d{13}\r\n/g, ":T\r\n")
    .replace(/\$13\r\n\d{13}\r\n/g, "$T\r\n")
    .replace(/(\$4\r\nidle\r\n):\d+\r\n/g, "$1:I\r\n")
    .replace(/(\*4\r\n\$\d+\r\n[^\r]*\r\n\$\d+\r\n[^\r]*\r\n):\d+\r\n/g, "$1:I\r\n");
}
