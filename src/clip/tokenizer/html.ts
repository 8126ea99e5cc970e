/**
 * CPython's `html.unescape` (Lib/html/__init__.py, 3.11), which open_clip applies twice.
 *
 * It follows the HTML5 tokenizer rules, so it differs from most JS entity decoders:
 * legacy names decode without `;` and as a prefix (`&copy2023` → `©2023`, `&notit;` → `¬it;`),
 * `&#0;`, surrogates and out-of-range references become U+FFFD, 0x80–0x9F use the
 * Windows-1252 table, and a fixed set of invalid code points decode to nothing.
 */
import { HTML5_ENTITIES } from './html_entities.ts';

/** Name → text; a Map so that names like `constructor` never hit Object.prototype. */
export const HTML5: ReadonlyMap<string, string> = new Map(Object.entries(HTML5_ENTITIES));

/** Python's `_invalid_charrefs`: numeric references the HTML5 spec remaps. */
const INVALID_CHARREFS: ReadonlyMap<number, string> = new Map([
  [0x00, '\ufffd'],
  [0x0d, '\r'],
  [0x80, '\u20ac'],
  [0x81, '\x81'],
  [0x82, '\u201a'],
  [0x83, '\u0192'],
  [0x84, '\u201e'],
  [0x85, '\u2026'],
  [0x86, '\u2020'],
  [0x87, '\u2021'],
  [0x88, '\u02c6'],
  [0x89, '\u2030'],
  [0x8a, '\u0160'],
  [0x8b, '\u2039'],
  [0x8c, '\u0152'],
  [0x8d, '\x8d'],
  [0x8e, '\u017d'],
  [0x8f, '\x8f'],
  [0x90, '\x90'],
  [0x91, '\u2018'],
  [0x92, '\u2019'],
  [0x93, '\u201c'],
  [0x94, '\u201d'],
  [0x95, '\u2022'],
  [0x96, '\u2013'],
  [0x97, '\u2014'],
  [0x98, '\u02dc'],
  [0x99, '\u2122'],
  [0x9a, '\u0161'],
  [0x9b, '\u203a'],
  [0x9c, '\u0153'],
  [0x9d, '\x9d'],
  [0x9e, '\u017e'],
  [0x9f, '\u0178'],
]);

/** Python's `_invalid_codepoints`: numeric references that decode to the empty string. */
function isInvalidCodepoint(n: number): boolean {
  return (
    (n >= 0x1 && n <= 0x8) ||
    n === 0xb ||
    (n >= 0xe && n <= 0x1f) ||
    (n >= 0x7f && n <= 0x9f) ||
    (n >= 0xfdd0 && n <= 0xfdef) ||
    // U+xFFFE and U+xFFFF of every plane
    (n & 0xfffe) === 0xfffe
  );
}

/** Python's `_charref` pattern; the `u` flag makes `{1,32}` count code points as Python does. */
const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

function numericCharref(s: string): string {
  const hex = s[1] === 'x' || s[1] === 'X';
  const digits = (hex ? s.slice(2) : s.slice(1)).replace(/;$/, '');
  // Very long digit strings parse to huge floats or Infinity: still correctly "> 0x10FFFF".
  const num = Number.parseInt(digits, hex ? 16 : 10);
  const remapped = INVALID_CHARREFS.get(num);
  if (remapped !== undefined) return remapped;
  if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
  if (isInvalidCodepoint(num)) return '';
  return String.fromCodePoint(num);
}

function replaceCharref(_match: string, s: string): string {
  if (s[0] === '#') return numericCharref(s);
  const whole = HTML5.get(s);
  if (whole !== undefined) return whole;
  // Longest prefix of at least 2 code points that is a known name (HTML5 legacy rule).
  const cps = Array.from(s);
  for (let x = cps.length - 1; x > 1; x--) {
    const prefix = cps.slice(0, x).join('');
    const value = HTML5.get(prefix);
    if (value !== undefined) return value + cps.slice(x).join('');
  }
  return '&' + s;
}

/** Python's `html.unescape(s)`, exactly (HTML5 rules, CPython 3.11 entity table). */
export function htmlUnescape(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(CHARREF, replaceCharref);
}
