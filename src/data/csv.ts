/**
 * A small RFC 4180 CSV reader: comma-separated, fields optionally wrapped in double quotes, `""` inside quotes is a
 * literal quote, quoted fields may span lines, CRLF / LF / CR line ends, a leading UTF-8 BOM is dropped. Blank lines
 * (empty or spaces only) are skipped. Each record keeps the 1-based line number it starts on, so callers can name the line at fault.
 */
import { readFileSync } from 'node:fs';
import { RwdaError } from '../errors.ts';

/** One CSV record and the (1-based) line it starts on. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/** A parsed CSV file: the first record is the header. */
export interface CsvTable {
  /** Header names, trimmed. */
  header: string[];
  /** Data records after the header. */
  rows: CsvRecord[];
}

/** Splits CSV text into records; `source` names the file in errors (unterminated quotes, text after a quote). */
export function parseCsv(text: string, source = 'CSV'): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let field = '';
    let endOfRecord = false;
    let quoted = false;
    while (!endOfRecord) {
      if (i < n && text[i] === '"' && field === '') {
        // Quoted field: runs to the matching quote; `""` is an escaped quote.
        quoted = true;
        const quoteLine = line;
        i++;
        for (;;) {
          if (i >= n) throw new RwdaError(`${source}: line ${quoteLine}: unterminated quoted field`);
          const ch = text[i]!;
          if (ch === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\r') {
            if (text[i + 1] === '\n') i++;
            field += '\n';
            line++;
          } else if (ch === '\n') {
            field += '\n';
            line++;
          } else field += ch;
          i++;
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          throw new RwdaError(`${source}: line ${line}: unexpected text after a closing quote`);
        }
        continue;
      }
      if (i >= n) {
        fields.push(field);
        endOfRecord = true;
        break;
      }
      const ch = text[i]!;
      if (ch === ',') {
        fields.push(field);
        field = '';
        i++;
      } else if (ch === '\n' || ch === '\r') {
        fields.push(field);
        i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
        line++;
        endOfRecord = true;
      } else {
        if (ch === '"') throw new RwdaError(`${source}: line ${line}: a quote inside an unquoted field`);
        field += ch;
        i++;
      }
    }
    // A line holding only spaces counts as blank (editors leave them); a quoted empty field does not.
    const blank = !quoted && fields.length === 1 && fields[0]!.trim() === '';
    if (!blank) records.push({ line: startLine, fields });
  }
  return records;
}

/** Reads and parses a CSV file with a header row; RwdaError if the file is missing, unreadable or has no header. */
export function readCsvFile(path: string): CsvTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RwdaError(`${path}: CSV file not found`, { code: 'not_found', cause: err });
    if (code === 'EISDIR') throw new RwdaError(`${path}: is a directory, expected a CSV file`, { cause: err });
    throw new RwdaError(`${path}: cannot read CSV file (${code ?? String(err)})`, { code: 'io', cause: err });
  }
  const records = parseCsv(text, path);
  if (records.length === 0) throw new RwdaError(`${path}: empty CSV file, expected a header row`);
  const [head, ...rows] = records;
  return { header: head!.fields.map((h) => h.trim()), rows };
}

/**
 * Index of each required column in `header` (exact match after trimming; case-insensitive when the exact name is
 * absent). Throws RwdaError naming the missing columns and the header found.
 */
export function columnIndex(header: string[], required: readonly string[], source: string): Map<string, number> {
  const out = new Map<string, number>();
  const missing: string[] = [];
  for (const name of required) {
    let idx = header.indexOf(name);
    if (idx < 0) idx = header.findIndex((h) => h.toLowerCase() === name.toLowerCase());
    if (idx < 0) missing.push(name);
    else out.set(name, idx);
  }
  if (missing.length > 0) {
    const shown = header.map((h) => JSON.stringify(h)).join(', ');
    throw new RwdaError(
      `${source}: line 1: header lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ` +
        `(header found: ${shown}); the first line must name the columns`,
    );
  }
  return out;
}
