// Redis 7's multi-part AOF manifest (aof.c aofInfo/aofManifest): a text file in
// `appenddirname` listing one base file, the incr files after it and history files waiting
// for deletion, one per line: `file <name> seq <n> type <b|h|i>`.

import { existsSync, readFileSync, renameSync, writeFileSync, fsyncSync, openSync, closeSync } from "node:fs";
import { join } from "node:path";
import { catRepr } from "../config/parse.ts";

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

  /** After a rewrite with the AOF off, the base alone holds the dataset: every incr file is history. */
  retireAllIncrs(): void {
    for (const f of this.incrs) this.history.push({ ...f, type: AofFileType.History });
    this.incrs = [];
  }

  /** Redis's getAofManifestAsString: base, then history, then incr files. */
  toString(): string {
    let out = "";
    const line = (f: AofFileInfo) => `file ${quoteName(f.name)} seq ${f.seq} type ${f.type}\n`;
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
   * Read the manifest (Redis's aofLoadManifestFromFile). Throws a ManifestError carrying
   * what Redis logs when the file is malformed.
   */
  load(): void {
    const text = readFileSync(this.manifestPath, "latin1");
    this.base = null;
    this.incrs = [];
    this.history = [];
    if (text.length === 0) throw new ManifestError("Found an empty AOF manifest");
    let lineNumber = 0;
    for (let pos = 0; pos < text.length; ) {
      const lf = text.indexOf("\n", pos);
      const lineEnd = lf < 0 ? text.length : lf + 1;
      lineNumber++;
      const raw = text.slice(pos, lineEnd);
      pos = lineEnd;
      if (raw.startsWith("#")) continue;
      // Redis reads lines of at most MANIFEST_MAX_LINE bytes, the newline included: a longer
      // one, or a last line without its newline, is refused.
      if (lf < 0 || raw.length > MANIFEST_MAX_LINE) throw new ManifestError("The AOF manifest file contains too long line");
      const line = trimLine(raw);
      this.add(parseManifestLine(line, lineNumber), lineNumber, line);
    }
  }

  private add(info: AofFileInfo, lineNumber: number, line: string): void {
    if (info.type === AofFileType.Base) {
      if (this.base !== null) throw new ManifestError("Found duplicate base file information", lineNumber, line);
      this.base = info;
      this.baseSeq = info.seq;
    } else if (info.type === AofFileType.History) {
      this.history.push(info);
    } else {
      if (info.seq <= this.incrSeq) throw new ManifestError("Found a non-monotonic sequence number", lineNumber, line);
      this.incrs.push(info);
      this.incrSeq = info.seq;
    }
  }
}

/** The longest manifest line Redis reads, newline included (MANIFEST_MAX_LINE). */
const MANIFEST_MAX_LINE = 1024;

/**
 * A malformed manifest: Redis's message, and the line it was reading when it had one
 * (Redis names the line only once it has read a whole one).
 */
export class ManifestError extends Error {
  constructor(
    message: string,
    readonly lineNumber = 0,
    readonly line: string | null = null,
  ) {
    super(message);
  }
}

/** sdstrim(line, " \t\r\n"). */
function trimLine(raw: string): string {
  return raw.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
}

/**
 * One `file <name> seq <n> type <t>` line: the pairs in any order, keys in any case,
 * pairs Redis does not know ignored (for forward compatibility), as Redis reads it.
 */
function parseManifestLine(line: string, lineNumber: number): AofFileInfo {
  const fail = (message: string) => new ManifestError(message, lineNumber, line);
  const words = line === "" ? null : splitArgs(line);
  if (words === null || words.length < 6 || words.length % 2 !== 0) throw fail("Invalid AOF manifest file format");
  let name = "";
  let seq = 0;
  let type = "";
  for (let i = 0; i < words.length; i += 2) {
    const key = words[i]!.toLowerCase();
    const value = words[i + 1]!;
    if (key === "file") {
      name = value;
      if (name.includes("/") || name.includes("\\")) throw fail("File can't be a path, just a filename");
    } else if (key === "seq") {
      seq = atoll(value);
    } else if (key === "type") {
      type = value.charAt(0);
    }
  }
  if (name === "" || seq === 0 || type === "") throw fail("Invalid AOF manifest file format");
  if (type !== "b" && type !== "h" && type !== "i") throw fail("Unknown AOF file type");
  return { name, seq, type: type as AofFileType };
}

/** C's atoll: the leading integer of s, 0 when there is none. */
function atoll(s: string): number {
  const n = Number.parseInt(s, 10);
  return Number.isNaN(n) ? 0 : n;
}

// -----------------------------------------------------------------------------------------
// Quoting file names (sdscatrepr / sdssplitargs)
// -----------------------------------------------------------------------------------------

/** C's isspace in the C locale: the white space sdssplitargs splits on. */
function isSpace(ch: string): boolean {
  return ch === " " || (ch >= "\t" && ch <= "\r");
}

/** The escapes sdssplitargs reads inside double quotes. */
const UNESCAPES: Readonly<Record<string, string>> = { n: "\n", r: "\r", t: "\t", b: "\b", a: "\x07" };

function isPrint(code: number): boolean {
  return code >= 0x20 && code < 0x7f;
}

/** sdsneedsrepr: a name with spaces, quotes, backslashes or unprintable bytes is written quoted. */
function needsQuoting(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i]!;
    const code = name.charCodeAt(i);
    if (ch === "\\" || ch === '"' || ch === " " || !isPrint(code) || (code >= 0x09 && code <= 0x0d)) return true;
  }
  return false;
}

/** A file name as the manifest holds it (sdscatrepr when it needs quoting). */
function quoteName(name: string): string {
  return needsQuoting(name) ? catRepr(name) : name;
}

/**
 * sdssplitargs: words split on white space, with "double quoted" words taking backslash
 * escapes and 'single quoted' ones only \'. Null when a quote is left open or a closing
 * quote is not followed by white space.
 */
function splitArgs(line: string): string[] | null {
  const words: string[] = [];
  let i = 0;
  for (;;) {
    while (i < line.length && isSpace(line[i]!)) i++;
    if (i >= line.length) return words;
    const quote = line[i] === '"' || line[i] === "'" ? line[i]! : "";
    if (quote !== "") i++;
    let word = "";
    for (;;) {
      if (i >= line.length) {
        if (quote !== "") return null;
        break;
      }
      const ch = line[i]!;
      if (quote === "" && isSpace(ch)) break;
      if (ch === quote) {
        i++;
        if (i < line.length && !isSpace(line[i]!)) return null;
        break;
      }
      if (ch === "\\" && i + 1 < line.length && (quote === '"' || (quote === "'" && line[i + 1] === "'"))) {
        const next = line[i + 1]!;
        const hex = /^x[0-9a-fA-F]{2}$/.test(line.slice(i + 1, i + 4)) ? line.slice(i + 2, i + 4) : "";
        if (quote === '"' && hex !== "") {
          word += String.fromCharCode(Number.parseInt(hex, 16));
          i += 4;
          continue;
        }
        word += quote === '"' ? (UNESCAPES[next] ?? next) : next;
        i += 2;
        continue;
      }
      word += ch;
      i++;
    }
    words.push(word);
  }
}
