// Redis 7's multi-part AOF manifest (aof.c aofInfo/aofManifest): a text file in
// `appenddirname` listing one base file, the incr files after it and history files waiting
// for deletion, one per line: `file <name> seq <n> type <b|h|i>`.

import { existsSync, readFileSync, renameSync, writeFileSync, fsyncSync, openSync, closeSync } from "node:fs";
import { join } from "node:path";

export const enum AofFileType {
  Base = "b",
  History = "h",
  Incr = "i",
}

export interface AofFileInfo {
  name: string;
  seq: number;
  type: AofFileType;
}

/** Suffixes Redis gives the files (BASE_FILE_SUFFIX, INCR_FILE_SUFFIX, RDB/AOF_FORMAT_SUFFIX, MANIFEST_NAME_SUFFIX). */
const BASE_SUFFIX = ".base";
const INCR_SUFFIX = ".incr";
export const RDB_FORMAT_SUFFIX = ".rdb";
export const AOF_FORMAT_SUFFIX = ".aof";
const MANIFEST_SUFFIX = ".manifest";

export class AofManifest {
  base: AofFileInfo | null = null;
  incrs: AofFileInfo[] = [];
  history: AofFileInfo[] = [];
  /** The highest sequence numbers used, so that new files never reuse a name. */
  baseSeq = 0;
  incrSeq = 0;

  constructor(readonly dir: string, readonly baseName: string) {}

  get manifestPath(): string {
    return join(this.dir, this.baseName + MANIFEST_SUFFIX);
  }

  get manifestName(): string {
    return this.baseName + MANIFEST_SUFFIX;
  }

  path(info: AofFileInfo): string {
    return join(this.dir, info.name);
  }

  /** A new base file's entry (Redis's getNewBaseFileNameAndMarkPreAsHistory): the old base becomes history. */
  newBase(rdbFormat: boolean): AofFileInfo {
    if (this.base !== null) this.history.push({ ...this.base, type: AofFileType.History });
    const seq = ++this.baseSeq;
    const suffix = rdbFormat ? RDB_FORMAT_SUFFIX : AOF_FORMAT_SUFFIX;
    this.base = { name: `${this.baseName}.${seq}${BASE_SUFFIX}${suffix}`, seq, type: AofFileType.Base };
    return this.base;
  }

  /** A new incr file's entry (Redis's getNewIncrAofName). */
  newIncr(): AofFileInfo {
    const seq = ++this.incrSeq;
    const info: AofFileInfo = { name: `${this.baseName}.${seq}${INCR_SUFFIX}${AOF_FORMAT_SUFFIX}`, seq, type: AofFileType.Incr };
    this.incrs.push(info);
    return info;
  }

  /** After a rewrite the incr files before `keep` are covered by the new base: history. */
  retireIncrsBefore(keep: AofFileInfo): void {
    const retired = this.incrs.filter((f) => f !== keep);
    for (const f of retired) this.history.push({ ...f, type: AofFileType.History });
    this.incrs = this.incrs.filter((f) => f === keep);
  }

  /** Redis's getAofManifestAsString: base, then history, then incr files. */
  toString(): string {
    let out = "";
    const line = (f: AofFileInfo) => `file ${f.name} seq ${f.seq} type ${f.type}\n`;
    if (this.base !== null) out += line(this.base);
    for (const f of this.history) out += line(f);
    for (const f of this.incrs) out += line(f);
    return out;
  }

  /** Write the manifest through a temporary file and a rename, as Redis's writeAofManifestFile. */
  persist(): void {
    const tmp = join(this.dir, "temp-" + this.manifestName);
    const fd = openSync(tmp, "w");
    try {
      writeFileSync(fd, this.toString(), "latin1");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.manifestPath);
  }

  exists(): boolean {
    return existsSync(this.manifestPath);
  }

  /**
   * Read the manifest (Redis's aofLoadManifestFromFile). Throws with Redis's message when a
   * line is malformed.
   */
  load(): void {
    const text = readFileSync(this.manifestPath, "latin1");
    this.base = null;
    this.incrs = [];
    this.history = [];
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) continue;
      const info = parseManifestLine(line);
      if (info.type === AofFileType.Base) {
        if (this.base !== null) throw new Error("Found duplicate base file information");
        this.base = info;
        this.baseSeq = info.seq;
      } else if (info.type === AofFileType.History) {
        this.history.push(info);
      } else {
        if (info.seq <= this.incrSeq) throw new Error("Found a non-monotonic sequence number");
        this.incrs.push(info);
        this.incrSeq = info.seq;
      }
    }
  }
}

/** One `file <name> seq <n> type <t>` line; the pairs may come in any order. */
function parseManifestLine(line: string): AofFileInfo {
  const words = line.split(/\s+/);
  if (words.length % 2 !== 0) throw new Error("Invalid AOF manifest file format");
  let name = "";
  let seq = -1;
  let type = "";
  for (let i = 0; i < words.length; i += 2) {
    const value = words[i + 1]!;
    if (words[i] === "file") name = value;
    else if (words[i] === "seq") seq = Number(value);
    else if (words[i] === "type") type = value;
  }
  if (name === "" || !Number.isInteger(seq) || seq < 0 || (type !== "b" && type !== "h" && type !== "i")) {
    throw new Error("Invalid AOF manifest file format");
  }
  return { name, seq, type: type as AofFileType };
}
