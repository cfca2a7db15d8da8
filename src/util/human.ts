// Redis's bytesToHuman (INFO's *_human fields): B, K, M, G, T, P, E with two decimals.

const UNITS = ["K", "M", "G", "T", "P", "E"];

export function formatBytesHuman(n: number): string {
  if (n < 1024) return `${n}B`;
  let v = n / 1024;
  let unit = 0;
  while (v >= 1024 && unit < UNITS.length - 1) {
    v /= 1024;
    unit++;
  }
  return `${v.toFixed(2)}${UNITS[unit]}`;
}
