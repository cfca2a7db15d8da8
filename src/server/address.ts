// Peer address helpers.

/** Redis's islocalClient test: loopback peers (IPv4 127/8, IPv6 ::1) count as local. */
export function isLocalAddress(addr: string): boolean {
  return addr.startsWith("127.") || addr.startsWith("::1:") || addr.startsWith("::ffff:127.");
}
