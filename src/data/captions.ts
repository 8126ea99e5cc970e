/**
 * Natural sentences for the paper's Figure 5 (Section 4.5): captions that contain a normal word
 * ("normal") or an anomaly word ("damage"), read from a COCO captions file
 * (`captions_train2017.json`: {"annotations": [{"image_id", "id", "caption"}, ...]}) or from a
 * plain text file with one sentence per line. A sentence holding words of both kinds says nothing
 * clear about its class, so it is left out and counted.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RwdaError } from '../errors.ts';

/** Suffixes that count as inflections with `inflections: true` (a final "e" may drop before -ed / -ing). */
export const INFLECTION_SUFFIXES = ['s', 'es', 'd', 'ed', 'ing'] as const;

/** How sentences are selected and labelled. */
export interface CaptionMatchOptions {
  /** Words that make a sentence normal (default ["normal"]). */
  normalWords?: readonly string[];
  /** Words that make a sentence anomalous (default ["damage"]). */
  anomalyWords?: readonly string[];
  /** Whether "damaged", "damages", "damaging" count as "damage" (default false: whole words only). */
  inflections?: boolean;
  /** Match letter case exactly (default false). */
  caseSensitive?: boolean;
}

/** The resolved matching rule, as experiment files record it. */
export interface CaptionMatch {
  normalWords: string[];
  anomalyWords: string[];
  inflections: boolean;
  caseSensitive: boolean;
  /** The suffixes that counted (empty without inflections). */
  suffixes: string[];
}

/** One selected sentence. */
export interface Caption {
  text: string;
  /** 0 normal, 1 anomalous. */
  label: 0 | 1;
  /** COCO image_id / annotation id (COCO files), or 1-based line number (text files). */
  imageId?: number;
  id?: number;
  line?: number;
}

/** What loadCaptions read. */
export interface CaptionSet {
  /** Absolute path of the file. */
  file: string;
  format: 'coco' | 'lines';
  match: CaptionMatch;
  /** Selected sentences in file order, each text once. */
  sentences: Caption[];
  counts: {
    /** Sentences in the file (non-empty lines or annotations). */
    read: number;
    normal: number;
    anomalous: number;
    /** Left out: a normal and an anomaly word in the same sentence. */
    both: number;
    /** Left out: a repeat of an earlier selected sentence (same text after trimming). */
    duplicates: number;
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function checkWords(words: readonly string[], what: string): string[] {
  if (!Array.isArray(words) || words.length === 0) throw new RwdaError(`captions: ${what} must list at least one word`);
  return words.map((w, i) => {
    const t = typeof w === 'string' ? w.trim() : '';
    if (t === '') throw new RwdaError(`captions: ${what}[${i}] is empty`);
    return t;
  });
}

/** The resolved matching rule (defaults filled in, words validated). */
export function resolveCaptionMatch(opts: CaptionMatchOptions = {}): CaptionMatch {
  const normalWords = checkWords(opts.normalWords ?? ['normal'], 'normal words');
  const anomalyWords = checkWords(opts.anomalyWords ?? ['damage'], 'anomaly words');
  const caseSensitive = opts.caseSensitive ?? false;
  const fold = (w: string): string => (caseSensitive ? w : w.toLowerCase());
  const shared = normalWords.filter((w) => anomalyWords.some((a) => fold(a) === fold(w)));
  if (shared.length > 0) throw new RwdaError(`captions: "${shared[0]}" is both a normal and an anomaly word`);
  const inflections = opts.inflections ?? false;
  return { normalWords, anomalyWords, inflections, caseSensitive, suffixes: inflections ? [...INFLECTION_SUFFIXES] : [] };
}

/** A regular expression that finds any of `words` as a whole word (letters and digits delimit words). */
function wordPattern(words: readonly string[], m: CaptionMatch): RegExp {
  const alts = words.map((w) => {
    const e = escapeRegExp(w).replace(/\s+/g, '\\s+');
    if (!m.inflections) return e;
    const suffixes = `(?:${m.suffixes.join('|')})?`;
    // "damage" → "damaging" / "damaged": a final e may be dropped before a suffix that starts with one.
    return /e$/i.test(w) ? `(?:${e}${suffixes}|${escapeRegExp(w.slice(0, -1))}(?:ed|ing))` : `${e}${suffixes}`;
  });
  return new RegExp(`(?<![\\p{L}\\p{N}])(?:${alts.join('|')})(?![\\p{L}\\p{N}])`, m.caseSensitive ? 'u' : 'iu');
}

/** The label of one sentence: 0, 1, 'both' or undefined (no word of either kind). */
export function captionLabel(text: string, match: CaptionMatch): 0 | 1 | 'both' | undefined {
  const normal = wordPattern(match.normalWords, match).test(text);
  const anomalous = wordPattern(match.anomalyWords, match).test(text);
  if (normal && anomalous) return 'both';
  return normal ? 0 : anomalous ? 1 : undefined;
}

interface RawSentence {
  text: string;
  imageId?: number;
  id?: number;
  line?: number;
}

function parseCoco(json: unknown, file: string): RawSentence[] {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new RwdaError(`${file}: a COCO captions file must be a JSON object with "annotations"`);
  const anns = (json as Record<string, unknown>).annotations;
  if (!Array.isArray(anns)) throw new RwdaError(`${file}: "annotations" must be an array of {"image_id", "id", "caption"}`);
  return anns.map((a, i) => {
    if (typeof a !== 'object' || a === null) throw new RwdaError(`${file}: annotations[${i}] is not an object`);
    const r = a as Record<string, unknown>;
    if (typeof r.caption !== 'string') throw new RwdaError(`${file}: annotations[${i}].caption must be a string`);
    for (const k of ['image_id', 'id'] as const) {
      if (r[k] !== undefined && typeof r[k] !== 'number') throw new RwdaError(`${file}: annotations[${i}].${k} must be a number`);
    }
    return { text: r.caption, imageId: r.image_id as number | undefined, id: r.id as number | undefined };
  });
}

/**
 * Reads a captions file (COCO JSON when it parses as JSON with "annotations", else one sentence
 * per line), selects the sentences with a normal or an anomaly word, and labels them.
 */
export function loadCaptions(path: string, opts: CaptionMatchOptions = {}): CaptionSet {
  const match = resolveCaptionMatch(opts);
  const file = resolve(path);
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RwdaError(`captions file ${file}: ${code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? String(err)})`}`);
  }
  let format: CaptionSet['format'] = 'lines';
  let sentences: RawSentence[];
  const head = raw.trimStart();
  if (head.startsWith('{') || head.startsWith('[')) {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      throw new RwdaError(`${file}: not valid JSON (${(err as Error).message}); a captions file is COCO JSON or plain text, one sentence per line`);
    }
    sentences = parseCoco(json, file);
    format = 'coco';
  } else {
    sentences = raw.split(/\r?\n/).map((text, i) => ({ text, line: i + 1 }));
  }
  const counts = { read: 0, normal: 0, anomalous: 0, both: 0, duplicates: 0 };
  const seen = new Set<string>();
  const out: Caption[] = [];
  for (const s of sentences) {
    const text = s.text.replace(/\s+/g, ' ').trim();
    if (text === '') continue;
    counts.read++;
    const label = captionLabel(text, match);
    if (label === undefined) continue;
    if (label === 'both') {
      counts.both++;
      continue;
    }
    if (seen.has(text)) {
      counts.duplicates++;
      continue;
    }
    seen.add(text);
    counts[label === 0 ? 'normal' : 'anomalous']++;
    out.push({ text, label, ...(s.imageId !== undefined ? { imageId: s.imageId } : {}), ...(s.id !== undefined ? { id: s.id } : {}), ...(s.line !== undefined ? { line: s.line } : {}) });
  }
  if (out.length === 0) {
    const words = [...match.normalWords, ...match.anomalyWords].map((w) => `"${w}"`).join(', ');
    throw new RwdaError(
      `captions file ${file}: none of its ${counts.read} sentences contains exactly one kind of the words ${words}` +
        (counts.both > 0 ? ` (${counts.both} hold both kinds and are left out)` : ''),
    );
  }
  return { file, format, match, sentences: out, counts };
}
