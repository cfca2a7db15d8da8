import type { Client } from "../server/client.ts";
import { ERR } from "../resp/errors.ts";
export function parseIntArg(c: Client, i: number): number | null {
  const s = c.argv.str(i);
  const n = Number(s);
  if (!/^-?[0-9]+$/.test(s) || !Number.isSafeInteger(n)) { c.w.addErrorBytes(ERR.notInteger); return null; }
  return n;
}
