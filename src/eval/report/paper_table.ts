/**
 * renderPaperTable: one of the paper's tables in the paper's own layout, each printed cell beside ours and the
 * difference, in Markdown and HTML, plus a verdict (how many of our cells lie within the paper's ±) for
 * `rwda reproduce`.
 */
import { MISSING, formatDiff, formatPaper } from './format.ts';
import {
  PAPER_SETUPS,
  TABLE_METRICS,
  paperCells,
  paperTableNotes,
  paperTablesJson,
  type PaperCell,
  type PaperSetup,
  type PaperTableId,
  type PrintedNumber,
  type TableMetric,
} from './paper_tables.ts';
import { escapeXml } from './svg.ts';

/** Our value for a printed cell, in percent (mean ± std over seeds), or undefined when we have none. */
export type OursLookup = (cell: PaperCell) => PrintedNumber | undefined;

/** How many cells were compared and how many of them agree. */
export interface PaperVerdict {
  /** Cells where both the paper and ours have a value. */
  cells: number;
  /** Of those, cells with |ours − paper| ≤ the paper's ± (a number printed without ± allows its rounding, 0.05). */
  withinPaperStd: number;
  /** Every number the table prints, compared or not. */
  printed: number;
}

/** One compared cell of a rendered table. */
export interface ComparedPaperCell {
  cell: PaperCell;
  ours?: PrintedNumber;
  /** ours − paper in points, from our unrounded mean. */
  diff?: number;
  within?: boolean;
}

/** A rendered table. */
export interface RenderedPaperTable {
  markdown: string;
  html: string;
  verdict: PaperVerdict;
  /** Every printed cell in table order, with ours where present. */
  compared: ComparedPaperCell[];
  /** What a reproduction should say beside this table (the normal-word ambiguity; the appendix's inconsistencies). */
  notes: string[];
}

/** Half of the last printed digit: the tolerance of a number printed without ±. */
export const PRINT_ROUNDING = 0.05;

const SETUP_LABELS: Readonly<Record<PaperSetup, string>> = {
  zero_unknown: '0-shot (unknown object)',
  zero_known: '0-shot (known object)',
  one_shot: '1-shot',
  two_shot: '2-shot',
  four_shot: '4-shot',
};
const METRIC_LABELS: Readonly<Record<TableMetric, string>> = { auroc: 'AUROC', aupr: 'AUPR', f1max: 'F1-max' };
const DATASET_LABELS: Readonly<Record<string, string>> = { mvtec: 'MVTec-AD', visa: 'VisA', sewerml: 'Sewer-ML' };

/** A grid in the paper's layout: row labels, then one column group (paper | ours | Δ) per column key. */
interface Grid {
  title: string;
  rowHead: string[];
  colHeads: string[];
  rows: Array<{ labels: string[]; cells: Array<PaperCell | undefined> }>;
}

function fmtOurs(n: PrintedNumber | undefined): string {
  return formatPaper(n);
}

function compare(cell: PaperCell, ours: OursLookup): ComparedPaperCell {
  const o = ours(cell);
  if (!o) return { cell };
  const diff = o.mean - cell.value.mean;
  const tol = cell.value.std ?? PRINT_ROUNDING;
  return { cell, ours: o, diff, within: Math.abs(diff) <= tol + 1e-9 };
}

function grids(tableId: PaperTableId): Grid[] {
  const j = paperTablesJson();
  const cells = paperCells().filter((c) => c.table === tableId);
  const find = (f: (c: PaperCell) => boolean): PaperCell | undefined => cells.find(f);
  const uniq = <T>(xs: T[]): T[] => [...new Set(xs)];
  switch (tableId) {
    case 'table1': {
      const cols = (['mvtec', 'visa'] as const).flatMap((d) => TABLE_METRICS.map((m) => [d, m] as const));
      return [
        {
          title: j.table1.title,
          rowHead: ['Setup', 'Method'],
          colHeads: cols.map(([d, m]) => `${DATASET_LABELS[d]} ${METRIC_LABELS[m]}`),
          rows: PAPER_SETUPS.flatMap((s) =>
            uniq(cells.filter((c) => c.setup === s).map((c) => c.method)).map((method) => ({
              labels: [SETUP_LABELS[s], method],
              cells: cols.map(([d, m]) => find((c) => c.setup === s && c.method === method && c.dataset === d && c.metric === m)),
            })),
          ),
        },
      ];
    }
    case 'table2':
    case 'table4': {
      const title = tableId === 'table2' ? j.table2.title : j.table4.title;
      return [
        {
          title,
          rowHead: tableId === 'table2' ? ['Method', 'Prompt ensemble'] : ['Method'],
          colHeads: TABLE_METRICS.map((m) => METRIC_LABELS[m]),
          rows: uniq(cells.map((c) => c.method)).map((method) => {
            const first = find((c) => c.method === method)!;
            return {
              labels: tableId === 'table2' ? [method, first.promptEnsemble ? 'yes' : 'no'] : [method],
              cells: TABLE_METRICS.map((m) => find((c) => c.method === method && c.metric === m)),
            };
          }),
        },
      ];
    }
    case 'table3': {
      const anomaly = uniq(cells.map((c) => c.anomalyWord));
      return [
        {
          title: j.table3.title,
          rowHead: ['Normal word', 'Method'],
          colHeads: anomaly.map((a) => `anomaly "${a}"`),
          rows: uniq(cells.map((c) => c.normalWord)).flatMap((n) =>
            (['CLIP', 'CLIP+ours'] as const).map((method) => ({
              labels: [`"${n}"`, method],
              cells: anomaly.map((a) => find((c) => c.normalWord === n && c.anomalyWord === a && c.method === method)),
            })),
          ),
        },
      ];
    }
    case 'appendix': {
      const out: Grid[] = [];
      for (const d of ['mvtec', 'visa'] as const) {
        for (const m of TABLE_METRICS) {
          const sub = cells.filter((c) => c.dataset === d && c.metric === m);
          const cols = uniq(sub.map((c) => `${c.setup}|${c.method}`));
          out.push({
            title: `${j.appendix.title} — ${DATASET_LABELS[d]}, ${METRIC_LABELS[m]}`,
            rowHead: ['Category'],
            colHeads: cols.map((k) => {
              const [s, method] = k.split('|') as [PaperSetup, string];
              return `${SETUP_LABELS[s]} ${method}`;
            }),
            rows: uniq(sub.map((c) => c.category!)).map((cat) => ({
              labels: [cat],
              cells: cols.map((k) => sub.find((c) => c.category === cat && `${c.setup}|${c.method}` === k)),
            })),
          });
        }
      }
      return out;
    }
  }
}

function mdRow(xs: string[]): string {
  return `| ${xs.map((x) => x.replace(/\|/g, '\\|')).join(' | ')} |`;
}

/** Renders one of the paper's tables in its layout with ours and ours − paper beside every printed number. */
export function renderPaperTable(tableId: PaperTableId, ours: OursLookup): RenderedPaperTable {
  const compared: ComparedPaperCell[] = [];
  const md: string[] = [];
  const html: string[] = [];
  for (const g of grids(tableId)) {
    const head = [...g.rowHead, ...g.colHeads.flatMap((h) => [`${h} paper`, 'ours', 'Δ'])];
    md.push(`**${g.title}**`, '', mdRow(head), mdRow(head.map(() => '---')));
    html.push(`<table class="paper-table"><caption>${escapeXml(g.title)}</caption><thead><tr>`);
    for (const h of g.rowHead) html.push(`<th rowspan="2">${escapeXml(h)}</th>`);
    for (const h of g.colHeads) html.push(`<th colspan="3">${escapeXml(h)}</th>`);
    html.push('</tr><tr>', g.colHeads.map(() => '<th>paper</th><th>ours</th><th>Δ</th>').join(''), '</tr></thead><tbody>');
    for (const row of g.rows) {
      const texts: string[] = [];
      html.push('<tr>', ...row.labels.map((l) => `<th>${escapeXml(l)}</th>`));
      for (const cell of row.cells) {
        if (!cell) {
          texts.push(MISSING, MISSING, MISSING);
          html.push(`<td>${MISSING}</td><td>${MISSING}</td><td>${MISSING}</td>`);
          continue;
        }
        const c = compare(cell, ours);
        compared.push(c);
        const t = [formatPaper(cell.value), c.ours ? fmtOurs(c.ours) : MISSING, formatDiff(c.diff)];
        texts.push(...t);
        const cls = c.within === undefined ? '' : c.within ? ' class="within"' : ' class="outside"';
        html.push(`<td>${escapeXml(t[0]!)}</td><td>${escapeXml(t[1]!)}</td><td${cls}>${escapeXml(t[2]!)}</td>`);
      }
      md.push(mdRow([...row.labels, ...texts]));
      html.push('</tr>');
    }
    md.push('');
    html.push('</tbody></table>');
  }
  const withOurs = compared.filter((c) => c.ours !== undefined);
  const verdict: PaperVerdict = {
    cells: withOurs.length,
    withinPaperStd: withOurs.filter((c) => c.within).length,
    printed: compared.length,
  };
  md.push(
    `${verdict.withinPaperStd} of ${verdict.cells} compared cells lie within the paper's ± ` +
      `(${verdict.printed} printed; Δ = ours − paper in points; a number printed without ± allows ±${PRINT_ROUNDING}).`,
  );
  const [wordNote, appendixNote] = paperTableNotes();
  const notes = tableId === 'appendix' ? [wordNote!, appendixNote!] : tableId === 'table4' ? [] : [wordNote!];
  for (const n of notes) md.push('', `> ${n}`);
  return { markdown: md.join('\n') + '\n', html: html.join(''), verdict, compared, notes };
}
