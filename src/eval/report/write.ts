/** Writes a run's results.json, report.md and report.html, each atomically. */
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import type { PaperData } from './paper.ts';
import type { RunResults } from './schema.ts';
import { validateRunResults } from './validate.ts';

/** File names inside a run directory. */
export const REPORT_FILES = { results: 'results.json', markdown: 'report.md', html: 'report.html' } as const;

/**
 * JSON with two-space indentation except that arrays of numbers, strings or booleans stay on one line: curves and
 * per-seed values would otherwise take one line per number.
 */
export function stringifyResults(value: unknown): string {
  const walk = (v: unknown, indent: string): string => {
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      if (v.every((x) => x === null || typeof x !== 'object')) return `[${v.map((x) => JSON.stringify(x) ?? 'null').join(', ')}]`;
      const inner = indent + '  ';
      return `[\n${v.map((x) => inner + walk(x, inner)).join(',\n')}\n${indent}]`;
    }
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
      if (entries.length === 0) return '{}';
      const inner = indent + '  ';
      return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${walk(x, inner)}`).join(',\n')}\n${indent}}`;
    }
    return JSON.stringify(v) ?? 'null';
  };
  return walk(value, '') + '\n';
}

/** Options of {@link writeReports}. */
export interface WriteReportsOptions {
  paper?: PaperData;
}

/**
 * Validates `results` (a NaN or a missing field throws RwdaError before anything is written), then writes
 * results.json, report.md and report.html into `runDir`; returns the three paths.
 */
export function writeReports(
  runDir: string,
  results: RunResults,
  opts: WriteReportsOptions = {},
): { results: string; markdown: string; html: string } {
  validateRunResults(results, 'results');
  const paths = {
    results: join(runDir, REPORT_FILES.results),
    markdown: join(runDir, REPORT_FILES.markdown),
    html: join(runDir, REPORT_FILES.html),
  };
  writeFileAtomic(paths.results, stringifyResults(results));
  writeFileAtomic(paths.markdown, renderMarkdown(results, { paper: opts.paper }));
  writeFileAtomic(paths.html, renderHtml(results, { paper: opts.paper }));
  return paths;
}
