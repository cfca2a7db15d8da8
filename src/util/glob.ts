/**
 * Glob-style matching with the exact semantics of Redis 7.0's `stringmatchlen`
 * (src/util.c), used by KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET, ACL key
 * patterns and COMMAND LIST FILTERBY PATTERN.
 *
 * Redis's matcher is recursive: every `*` tries the rest of the pattern at
 * each later position of the subject. Two details make an iterative version
 * exact rather than merely similar:
 *
 * - Once the rest of the pattern after a `*` has failed at every position,
 *   Redis sets `skipLongerMatches` and every enclosing `*` gives up too. So
 *   only the most recent `*` ever backtracks, which is what the loop below
 *   does, in O(pattern * subject) steps with no recursion.
 * - A `*` that is not the last pattern byte recurses with `nesting + 1`, and
 *   a call with nesting above 1000 fails at once (the CVE-2022-36021 fix).
 *   Its loop then exhausts the subject, sets `skipLongerMatches`, and the
 *   whole match fails. So reaching a non-final `*` run after 1000 earlier
 *   `*` runs means "no match" (GLOB_MAX_NESTING below).
 *
 * Quirks kept on purpose, because clients can observe them:
 * - The main loop only runs while both pattern and subject are non-empty, so
 *   the empty subject matches only the empty pattern: "*" does not match ""
 *   here. KEYS and SCAN special-case the single "*" pattern before calling
 *   the matcher (see isMatchAll), so `KEYS *` lists the key "" while
 *   `KEYS **` does not.
 * - A `[` set with no closing `]` ends at the end of the pattern: "[ab"
 *   matches "a" or "b", "[" matches nothing and "[^" matches any byte.
 * - Inside a set, `\x` matches x (case-sensitively, even with nocase), and a
 *   trailing `\` is an ordinary member. Outside a set a trailing `\` matches
 *   a literal backslash.
 * - In ranges, bytes compare as C `char`, which is signed on x86-64 Linux
 *   (the platform whose redis-server is our oracle): bytes 0x80..0xff sort
 *   below 0x00. So `[a-\xff]` is the range -1..97 and does not contain 0xe9.
 *   Reversed ranges such as `[z-a]` are swapped before comparing.
 * - Case folding is C-locale `tolower`: only A-Z fold, never Latin-1 letters.
 */

/** Redis's limit on nested `*` recursion in stringmatchlen_impl. */
export const GLOB_MAX_NESTING = 1000;

const CH_STAR = 42; // '*'
const CH_QUESTION = 63; // '?'
const CH_LBRACKET = 91; // '['
const CH_RBRACKET = 93; // ']'
const CH_BACKSLASH = 92; // '\\'
const CH_CARET = 94; // '^'
const CH_DASH = 45; // '-'

/** C-locale tolower over a byte (or a sign-extended byte, which it leaves alone). */
function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** A byte read as a signed C char on x86-64. */
function signedChar(c: number): number {
  return c >= 128 ? c - 256 : c;
}

/**
 * True when Redis would skip matching altogether because the pattern is the
 * single byte "*" (KEYS, SCAN and friends test `pattern[0]=='*' && plen==1`).
 * Only this exact pattern: "**" goes through the matcher and does not match
 * the empty key.
 */
export function isMatchAll(pattern: string): boolean {
  return pattern.length === 1 && pattern.charCodeAt(0) === CH_STAR;
}

/**
 * Matches `subject` against `pattern`, both latin1 strings (one char code per
 * byte), exactly as Redis 7.0's stringmatchlen(pattern, subject, nocase).
 */
export function globMatch(pattern: string, subject: string, nocase: boolean): boolean {
  const pEnd = pattern.length;
  const sEnd = subject.length;
  let p = 0;
  let s = 0;
  // Nesting of the "call" being simulated: how many `*` runs lie behind p.
  let nesting = 0;
  // The most recent `*`: where the rest of the pattern starts, where the
  // current attempt at the subject started, and the nesting of that rest.
  let starRest = -1;
  let starFrom = 0;
  let starNesting = 0;

  for (;;) {
    // One pass of stringmatchlen_impl's main loop from (p, s). `failed` means
    // this simulated call returns 0 before reaching the end-of-input test.
    let failed = false;
    scan: while (p < pEnd && s < sEnd) {
      const pc = pattern.charCodeAt(p);
      switch (pc) {
        case CH_STAR: {
          while (p + 1 < pEnd && pattern.charCodeAt(p + 1) === CH_STAR) p++;
          if (p + 1 === pEnd) return true;
          // Redis recurses with nesting + 1 here; past the limit every try
          // fails, the subject is exhausted and the whole match fails.
          if (nesting >= GLOB_MAX_NESTING) return false;
          nesting++;
          p++;
          starRest = p;
          starFrom = s;
          starNesting = nesting;
          continue scan;
        }
        case CH_QUESTION:
          s++;
          break;
        case CH_LBRACKET: {
          const sc = subject.charCodeAt(s);
          p++;
          const not = p < pEnd && pattern.charCodeAt(p) === CH_CARET;
          if (not) p++;
          let match = false;
          for (;;) {
            const c = p < pEnd ? pattern.charCodeAt(p) : -1;
            if (c === CH_BACKSLASH && pEnd - p >= 2) {
              p++;
              if (pattern.charCodeAt(p) === sc) match = true;
            } else if (c === CH_RBRACKET) {
              break;
            } else if (p === pEnd) {
              // Unterminated set: step back so the shared advance below
              // lands exactly on the end of the pattern.
              p--;
              break;
            } else if (pEnd - p >= 3 && pattern.charCodeAt(p + 1) === CH_DASH) {
              let start = signedChar(c);
              let end = signedChar(pattern.charCodeAt(p + 2));
              let x = signedChar(sc);
              if (start > end) {
                const t = start;
                start = end;
                end = t;
              }
              if (nocase) {
                start = lower(start);
                end = lower(end);
                x = lower(x);
              }
              p += 2;
              if (x >= start && x <= end) match = true;
            } else if (nocase ? lower(c) === lower(sc) : c === sc) {
              match = true;
            }
            p++;
          }
          if (not) match = !match;
          if (!match) {
            failed = true;
            break scan;
          }
          s++;
          break;
        }
        case CH_BACKSLASH:
        default: {
          if (pc === CH_BACKSLASH && pEnd - p >= 2) p++;
          const c = pattern.charCodeAt(p);
          const sc = subject.charCodeAt(s);
          if (nocase ? lower(c) !== lower(sc) : c !== sc) {
            failed = true;
            break scan;
          }
          s++;
          break;
        }
      }
      p++;
      if (s === sEnd) {
        while (p < pEnd && pattern.charCodeAt(p) === CH_STAR) p++;
        break;
      }
    }
    if (!failed && p === pEnd && s === sEnd) return true;
    // The simulated call returned 0: the enclosing `*` moves one byte on,
    // and gives up (taking every outer `*` with it) at the subject's end.
    if (starRest < 0) return false;
    starFrom++;
    if (starFrom === sEnd) return false;
    p = starRest;
    s = starFrom;
    nesting = starNesting;
  }
}

/** Latin1 view of a byte range: one char code per byte. */
function latin1(buf: Uint8Array, start: number, len: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, len).toString("latin1");
}

/**
 * globMatch over byte ranges, for callers holding Uint8Array views (set
 * members, hash fields). It decodes both ranges to latin1 strings, so
 * callers matching many subjects should convert the pattern once and use
 * globMatch instead.
 */
export function globMatchBytes(
  pat: Uint8Array,
  patStart: number,
  patLen: number,
  subj: Uint8Array,
  subjStart: number,
  subjLen: number,
  nocase: boolean,
): boolean {
  return globMatch(latin1(pat, patStart, patLen), latin1(subj, subjStart, subjLen), nocase);
}
