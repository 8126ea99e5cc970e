/**
 * open_clip's text cleaning before the split (`_whitespace_basic_clean` + `.lower()`):
 * ftfy.fix_text → html.unescape twice → strip → `\s+` → ' ' → strip → lower.
 * Each step reproduces the Python semantics it relies on, which differ from JS defaults.
 */
import { fixText } from './ftfy.ts';
import { htmlUnescape } from './html.ts';

/**
 * Python's `str.strip()` set (`str.isspace`: bidi class WS/B/S or category Zs). Unlike the
 * regex `\s` below it includes U+001C–U+001F; unlike JS `trim()` it includes U+0085 and
 * excludes U+FEFF.
 */
const PY_SPACE: ReadonlySet<number> = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680,
  0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a,
  0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/** `re.sub(r'\s+', ' ')` with the `regex` module, whose `\s` is Unicode White_Space (JS `\s` adds U+FEFF, drops U+0085). */
const WHITE_SPACE_RUN = /\p{White_Space}+/gu;

/**
 * Characters that Python 3.11 (Unicode 14) leaves alone but this JS engine lowercases,
 * because they gained case mappings in later Unicode versions.
 */
const PY_UNCASED = /[\u1c89\ua7cb\ua7cc\ua7ce\ua7d2\ua7d4\ua7da\ua7dc\u{10d50}-\u{10d65}\u{16ea0}-\u{16eb8}]/u;
const PY_UNCASED_SPLIT = new RegExp(`(${PY_UNCASED.source})`, 'u');

/** Python's `str.strip()` with no argument. */
export function pyStrip(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && PY_SPACE.has(s.charCodeAt(start))) start++;
  while (end > start && PY_SPACE.has(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Python 3.11's `str.lower()`: full mappings (`İ` → `i̇`) and final sigma, as JS does, minus newer Unicode. */
export function pyLower(s: string): string {
  if (!PY_UNCASED.test(s)) return s.toLowerCase();
  return s
    .split(PY_UNCASED_SPLIT)
    .map((part, i) => (i % 2 === 1 ? part : part.toLowerCase()))
    .join('');
}

/** Options of {@link cleanText}. */
export interface CleanOptions {
  /** Apply the ftfy subset (default true, as open_clip does). False reproduces an identity `fix_text`. */
  fixText?: boolean;
}

/** The text open_clip splits into words: fix_text, unescape ×2, whitespace collapse, lower-case. */
export function cleanText(text: string, options: CleanOptions = {}): string {
  let t = options.fixText === false ? text : fixText(text);
  t = htmlUnescape(htmlUnescape(t));
  t = pyStrip(t);
  t = t.replace(WHITE_SPACE_RUN, ' ');
  t = pyStrip(t);
  return pyLower(t);
}
