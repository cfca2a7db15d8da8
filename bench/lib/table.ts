// Statistics and table rendering shared by the comparison benchmarks.

export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Numbers with thousands separators; "-" for a missing value (skipped or failed server). */
export function fmtInt(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "-";
}

export function fmtFixed(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "-";
}

export function fmtRatio(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}x` : "-";
}

export function fmtBytes(x: number): string {
  if (!Number.isFinite(x)) return "-";
  const mib = x / (1024 * 1024);
  return `${mib.toFixed(1)} MiB`;
}

export type Align = "left" | "right";

export interface Table {
  headers: string[];
  align: Align[];
  rows: string[][];
}

export function renderPlain(t: Table): string {
  const widths = t.headers.map((h, i) => Math.max(h.length, ...t.rows.map((r) => r[i]!.length)));
  const cell = (s: string, i: number) => (t.align[i] === "left" ? s.padEnd(widths[i]!) : s.padStart(widths[i]!));
  const line = (cells: string[]) => cells.map(cell).join("  ").trimEnd();
  return [line(t.headers), widths.map((w) => "-".repeat(w)).join("  "), ...t.rows.map(line)].join("\n");
}

export function renderMarkdown(t: Table): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const rule = t.align.map((a) => (a === "left" ? ":---" : "---:"));
  return [line(t.headers), line(rule), ...t.rows.map(line)].join("\n");
}
