/**
 * A subset of `ftfy.fix_text` (ftfy 6.3.1, default config), the first step of open_clip's cleaning.
 *
 * Done, exactly as ftfy does it (same order, same tables, same fixed-point loop, same line
 * segmentation and the same "auto" HTML rule):
 *   - unescape_html: `&name;` from the HTML5 table (only with `;`), ALL-CAPS forms such as
 *     `&EACUTE;`, numeric `&#…;`; switched off for the rest of the text once a line holds `<`
 *   - fix_c1_controls: U+0080–U+009F decoded as sloppy Windows-1252 (U+0085 → `…`)
 *   - fix_latin_ligatures (`ﬁ` → `fi`, `ĳ` → `ij`, `ŉ` → `ʼn`, `Ǆ` → `DŽ`, …)
 *   - fix_character_width: U+FF01–U+FFEF → their NFKC form, U+3000 → space
 *   - uncurl_quotes: U+02BC, U+2018–U+201B → `'`; U+201C–U+201F → `"`
 *   - fix_line_breaks, fix_surrogates (lone surrogates → U+FFFD), remove_terminal_escapes
 *   - remove_control_chars: U+0000–0008, 000B, 000E–001F, 007F, 206A–206F, FEFF, FFF9–FFFC
 *   - NFC normalisation
 * Not done: `fix_encoding` (mojibake repair: the badness heuristic, re-decoding through
 * Latin-1/Windows-125x/MacRoman/CP437, restore_byte_a0, replace_lossy_sequences,
 * decode_inconsistent_utf8). Text such as `Ã©lÃ¨ve` or `â€™` therefore stays as it is here,
 * where ftfy would repair it. Normal text is never touched by that step, so it only matters
 * for input that is already mojibake.
 */
import { HTML5, htmlUnescape } from './html.ts';
import { FTFY_UPPERCASE_ENTITIES } from './html_entities.ts';

/** ftfy's CONTROL_CHARS: removed outright. */
const CONTROL_CHARS = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
/** ftfy's ANSI_RE; Python's `\d` is any Unicode decimal digit. */
const ANSI_ESCAPE = /\x1b\[(?:\p{Nd}|;)*[a-zA-Z]/gu;
const C1_CONTROLS = /[\x80-\x9f]/g;
const SINGLE_QUOTES = /[\u02bc\u2018-\u201b]/g;
const DOUBLE_QUOTES = /[\u201c-\u201f]/g;
const HTML_ENTITY = /&#?[0-9A-Za-z]{1,24};/g;
/** fix_surrogates: JS strings hold surrogate pairs as characters already, so only lone ones remain. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** Anything any fixer could change; text without it is returned as is (the common case). */
const NEEDS_FIXING = /[^\t\n\f\x20-\x7e]|&/;

/** Windows-1252 for 0x80–0x9F; the five undefined bytes pass through as in ftfy's sloppy codec. */
const WINDOWS_1252_C1 =
  '\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f' +
  '\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178';

const LIGATURES: ReadonlyMap<string, string> = new Map([
  ['Ĳ', 'IJ'],
  ['ĳ', 'ij'],
  ['ŉ', 'ʼn'],
  ['Ǳ', 'DZ'],
  ['ǲ', 'Dz'],
  ['ǳ', 'dz'],
  ['Ǆ', 'DŽ'],
  ['ǅ', 'Dž'],
  ['ǆ', 'dž'],
  ['Ǉ', 'LJ'],
  ['ǈ', 'Lj'],
  ['ǉ', 'lj'],
  ['Ǌ', 'NJ'],
  ['ǋ', 'Nj'],
  ['ǌ', 'nj'],
  ['ﬀ', 'ff'],
  ['ﬁ', 'fi'],
  ['ﬂ', 'fl'],
  ['ﬃ', 'ffi'],
  ['ﬄ', 'ffl'],
  ['ﬅ', 'ſt'],
  ['ﬆ', 'st'],
]);
const LIGATURE_CHARS = new RegExp(`[${[...LIGATURES.keys()].join('')}]`, 'g');

/** ftfy's WIDTH_MAP: U+3000 → space, and each of U+FF01–U+FFEF that NFKC changes → its NFKC form. */
const WIDTH_MAP: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>([['\u3000', ' ']]);
  for (let cp = 0xff01; cp < 0xfff0; cp++) {
    const ch = String.fromCharCode(cp);
    const alt = ch.normalize('NFKC');
    if (alt !== ch) m.set(ch, alt);
  }
  return m;
})();
const WIDTH_CHARS = /[\u3000\uff01-\uffef]/g;

let entityTable: ReadonlyMap<string, string> | undefined;

/** ftfy's HTML_ENTITIES: `&name;` for every HTML5 name ending in `;`, plus the ALL-CAPS extras. */
function ftfyEntities(): ReadonlyMap<string, string> {
  if (entityTable === undefined) {
    const m = new Map<string, string>();
    for (const [name, value] of HTML5) if (name.endsWith(';')) m.set('&' + name, value);
    for (const [name, value] of Object.entries(FTFY_UPPERCASE_ENTITIES)) m.set('&' + name, value);
    entityTable = m;
  }
  return entityTable;
}

function unescapeFixup(text: string): string {
  const known = ftfyEntities().get(text);
  if (known !== undefined) return known;
  if (text.startsWith('&#')) {
    const unescaped = htmlUnescape(text);
    // Only a reference that consumed its ';' counts, as in ftfy.
    return unescaped.includes(';') ? text : unescaped;
  }
  return text;
}

function unescapeHtml(text: string): string {
  return text.includes('&') ? text.replace(HTML_ENTITY, unescapeFixup) : text;
}

function fixC1Controls(text: string): string {
  return text.replace(C1_CONTROLS, (c) => WINDOWS_1252_C1[c.charCodeAt(0) - 0x80]!);
}

function fixLineBreaks(text: string): string {
  return text
    .replaceAll('\r\n', '\n')
    .replaceAll('\r', '\n')
    .replaceAll('\u2028', '\n')
    .replaceAll('\u2029', '\n')
    .replaceAll('\u0085', '\n');
}

/** One `fix_and_explain` segment: the fixers in ftfy's order, repeated until nothing changes. */
function fixSegment(segment: string, unescape: boolean): string {
  let text = segment;
  for (;;) {
    const orig = text;
    if (unescape) text = unescapeHtml(text);
    text = fixC1Controls(text);
    text = text.replace(LIGATURE_CHARS, (c) => LIGATURES.get(c)!);
    text = text.replace(WIDTH_CHARS, (c) => WIDTH_MAP.get(c) ?? c);
    text = text.replace(DOUBLE_QUOTES, '"').replace(SINGLE_QUOTES, "'");
    text = fixLineBreaks(text);
    text = text.replace(LONE_SURROGATE, '\ufffd');
    text = text.replace(ANSI_ESCAPE, '');
    text = text.replace(CONTROL_CHARS, '');
    text = text.normalize('NFC');
    if (text === orig) return text;
  }
}

/** ftfy splits its input after each '\n' and caps a segment at this many code points. */
const MAX_DECODE_LENGTH = 1_000_000;

/** UTF-16 index just past the first `n` code points of `s` from `start` (or s.length). */
function advanceCodePoints(s: string, start: number, n: number): number {
  let i = start;
  for (let k = 0; k < n && i < s.length; k++) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
  }
  return i;
}

/** `ftfy.fix_text(text)` with the subset of fixes listed in this module's header. */
export function fixText(text: string): string {
  if (!NEEDS_FIXING.test(text)) return text;
  const out: string[] = [];
  let unescape = true; // "auto": off from the first segment that contains '<'
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos) + 1;
    if (end === 0) end = text.length;
    // Segment length counts code points in Python; UTF-16 length is an upper bound of it.
    if (end - pos > MAX_DECODE_LENGTH) end = Math.min(end, advanceCodePoints(text, pos, MAX_DECODE_LENGTH));
    const segment = text.slice(pos, end);
    if (unescape && segment.includes('<')) unescape = false;
    out.push(fixSegment(segment, unescape));
    pos = end;
  }
  return out.join('');
}
