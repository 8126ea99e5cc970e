/**
 * Loading the CLIP BPE vocabulary from open_clip's `bpe_simple_vocab_16e6.txt.gz` or from the
 * Hugging Face `vocab.json` + `merges.txt` pair. Both give the same 49,408 ids.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { RwdaError, fsErrorCode } from '../../errors.ts';
import { BYTE_UNICODE_ORDER, END_OF_WORD } from './bpe.ts';

/** open_clip keeps `merges[1 : 49152 - 256 - 2 + 1]` of the .gz file. */
export const CLIP_MERGE_COUNT = 49152 - 256 - 2;
export const BPE_GZ_NAME = 'bpe_simple_vocab_16e6.txt.gz';
export const HF_VOCAB_NAME = 'vocab.json';
export const HF_MERGES_NAME = 'merges.txt';

/** open_clip's special-token names (also what a user's text must contain to produce them). */
export const SOT_TEXT = '<start_of_text>';
export const EOT_TEXT = '<end_of_text>';
/** The same tokens as Hugging Face names them. */
const HF_SOT_TEXT = '<|startoftext|>';
const HF_EOT_TEXT = '<|endoftext|>';

/** A loaded vocabulary: merges in rank order and token → id. */
export interface Vocab {
  readonly merges: readonly (readonly [string, string])[];
  readonly encoder: ReadonlyMap<string, number>;
  readonly sotId: number;
  readonly eotId: number;
  /** The file(s) it came from, for messages. */
  readonly source: string;
}

function readFileOrThrow(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : String(err);
    throw new RwdaError(`cannot read ${what} ${path}: ${why}`, { code: fsErrorCode(err), cause: err });
  }
}

function decodeUtf8(buf: Buffer, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch (err) {
    throw new RwdaError(`${path}: not valid UTF-8`, { cause: err });
  }
}

function parseMergeLines(lines: readonly string[], firstLineNo: number, path: string): [string, string][] {
  return lines.map((line, i) => {
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new RwdaError(`${path}: line ${firstLineNo + i} is not a merge "A B": ${JSON.stringify(line.slice(0, 80))}`);
    }
    return [parts[0]!, parts[1]!];
  });
}

/** open_clip's vocabulary order: 256 byte symbols, their `</w>` forms, one token per merge, SOT, EOT. */
function openClipEncoder(merges: readonly (readonly [string, string])[]): Map<string, number> {
  const byteTokens = BYTE_UNICODE_ORDER.map(([, c]) => c);
  const tokens = [...byteTokens, ...byteTokens.map((c) => c + END_OF_WORD)];
  for (const [a, b] of merges) tokens.push(a + b);
  tokens.push(SOT_TEXT, EOT_TEXT);
  // dict(zip(vocab, range)): a repeated token keeps its last id, as in Python.
  const encoder = new Map<string, number>();
  tokens.forEach((t, id) => encoder.set(t, id));
  return encoder;
}

/** Reads open_clip's gzip'd merges file (`bpe_simple_vocab_16e6.txt.gz`). */
export function loadBpeGz(path: string): Vocab {
  const raw = readFileOrThrow(path, 'BPE vocabulary');
  let text: string;
  try {
    text = decodeUtf8(gunzipSync(raw), path);
  } catch (err) {
    if (err instanceof RwdaError) throw err;
    throw new RwdaError(`${path}: not a gzip file (${(err as Error).message})`, { cause: err });
  }
  // Only lines 1..48894 are used; the file has 262k, so stop splitting after those.
  let end = -1;
  let count = 0;
  while (count < CLIP_MERGE_COUNT + 1) {
    const next = text.indexOf('\n', end + 1);
    if (next < 0) break;
    end = next;
    count++;
  }
  const lines = (count === CLIP_MERGE_COUNT + 1 ? text.slice(0, end) : text).split('\n');
  if (lines.length < CLIP_MERGE_COUNT + 1) {
    throw new RwdaError(`${path}: has ${Math.max(0, lines.length - 1)} merge lines, expected at least ${CLIP_MERGE_COUNT}`);
  }
  const merges = parseMergeLines(lines.slice(1, CLIP_MERGE_COUNT + 1), 2, path);
  const encoder = openClipEncoder(merges);
  return { merges, encoder, sotId: encoder.get(SOT_TEXT)!, eotId: encoder.get(EOT_TEXT)!, source: path };
}

/** Reads a Hugging Face CLIP tokenizer's `vocab.json` and `merges.txt`. */
export function loadHfFiles(vocabJsonPath: string, mergesTxtPath: string): Vocab {
  const vocabText = decodeUtf8(readFileOrThrow(vocabJsonPath, 'tokenizer vocabulary'), vocabJsonPath);
  let parsed: unknown;
  try {
    parsed = JSON.parse(vocabText);
  } catch (err) {
    throw new RwdaError(`${vocabJsonPath}: invalid JSON (${(err as Error).message})`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new RwdaError(`${vocabJsonPath}: expected a JSON object mapping token → id`);
  }
  const encoder = new Map<string, number>();
  for (const [token, id] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new RwdaError(`${vocabJsonPath}: id of token ${JSON.stringify(token)} is not a non-negative integer`);
    }
    encoder.set(token, id);
  }

  const mergesText = decodeUtf8(readFileOrThrow(mergesTxtPath, 'BPE merges'), mergesTxtPath);
  const lines = mergesText.split('\n');
  // Trailing newline(s) and '\r\n' endings are tolerated; a '#version' header is skipped.
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  const cleaned = lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const start = cleaned.length > 0 && cleaned[0]!.startsWith('#version') ? 1 : 0;
  const merges = parseMergeLines(cleaned.slice(start), start + 1, mergesTxtPath);
  if (merges.length === 0) throw new RwdaError(`${mergesTxtPath}: no merges`);

  const sotId = encoder.get(HF_SOT_TEXT) ?? encoder.get(SOT_TEXT);
  const eotId = encoder.get(HF_EOT_TEXT) ?? encoder.get(EOT_TEXT);
  if (sotId === undefined) throw new RwdaError(`${vocabJsonPath}: no start token "${HF_SOT_TEXT}"`);
  if (eotId === undefined) throw new RwdaError(`${vocabJsonPath}: no end token "${HF_EOT_TEXT}"`);
  for (const [, c] of BYTE_UNICODE_ORDER) {
    for (const t of [c, c + END_OF_WORD]) {
      if (!encoder.has(t)) throw new RwdaError(`${vocabJsonPath}: byte token ${JSON.stringify(t)} is missing`);
    }
  }
  merges.forEach(([a, b], i) => {
    if (!encoder.has(a + b)) {
      throw new RwdaError(`${vocabJsonPath}: token ${JSON.stringify(a + b)} of ${mergesTxtPath} line ${start + 1 + i} is missing`);
    }
  });
  return { merges, encoder, sotId, eotId, source: `${vocabJsonPath} + ${mergesTxtPath}` };
}

/** Which vocabulary files a model directory holds (HF pair preferred), or undefined if none. */
export function locateVocab(dir: string): { kind: 'hf'; vocabJson: string; mergesTxt: string } | { kind: 'bpe-gz'; path: string } | undefined {
  const vocabJson = join(dir, HF_VOCAB_NAME);
  const mergesTxt = join(dir, HF_MERGES_NAME);
  if (existsSync(vocabJson) && existsSync(mergesTxt)) return { kind: 'hf', vocabJson, mergesTxt };
  const gz = join(dir, BPE_GZ_NAME);
  if (existsSync(gz)) return { kind: 'bpe-gz', path: gz };
  return undefined;
}

/** Loads the vocabulary found in a model directory, or throws an RwdaError naming what is missing. */
export function loadVocabFromDir(dir: string): Vocab {
  if (!existsSync(dir)) throw new RwdaError(`model directory not found: ${dir}`, { code: 'not_found' });
  const found = locateVocab(dir);
  if (found?.kind === 'hf') return loadHfFiles(found.vocabJson, found.mergesTxt);
  if (found?.kind === 'bpe-gz') return loadBpeGz(found.path);
  const half = existsSync(join(dir, HF_VOCAB_NAME))
    ? ` (${HF_VOCAB_NAME} is there but ${HF_MERGES_NAME} is not)`
    : existsSync(join(dir, HF_MERGES_NAME))
      ? ` (${HF_MERGES_NAME} is there but ${HF_VOCAB_NAME} is not)`
      : '';
  throw new RwdaError(
    `no tokenizer vocabulary in ${dir}: expected ${HF_VOCAB_NAME} + ${HF_MERGES_NAME} or ${BPE_GZ_NAME}${half}`,
    { code: 'not_found' },
  );
}
