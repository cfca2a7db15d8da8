// Peer address helpers, formatted and tested as Redis does (anetFormatAddr, islocalClient).

/** "ip:port", with brackets around an IPv6 address: "[::1]:6379". */
export function formatAddress(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Redis's islocalClient test: loopback peers (IPv4 127/8, IPv6 ::1) count as local. */
export function isLocalAddress(addr: string): boolean {
  return addr.startsWith("127.") || addr.startsWith("[::1]:") || addr.startsWith("[::ffff:127.");
}
