/**
 * The experiments' figures as standalone SVG, in the eval report's style (same fonts, colours and
 * frame): the pair-count sweep through the report's lineChart (error bars are extra series whose
 * vertical segments are separated by NaN breaks), the word grid as a shaded table, and the t-SNE
 * scatter. Plot elements carry stable classes and data attributes for tests and styling:
 * `path.curve[data-method]`, `g.cell[data-normal-word][data-anomaly-word]`, `g.points[data-group]`.
 */
import { METHOD_LABELS, formatStat, pct, type MethodId, type Stat } from '../report/index.ts';
import { CLASS_COLORS, METHOD_COLORS } from '../report/html.ts';
import { escapeXml as esc, lineChart, niceTicks, type LineSeries } from '../report/svg.ts';

const FONT = 'system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif';
const AXIS_COLOR = '#6b7280';
const GRID_COLOR = '#e5e7eb';
const TEXT_COLOR = '#1f2937';
const MUTED = '#6b7280';

/** A coordinate as text: rounded to 0.01, never "-0". */
function n(v: number): string {
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

function svgOpen(className: string, width: number, height: number, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="${esc(className)}" viewBox="0 0 ${n(width)} ${n(height)}" width="${n(width)}" ` +
    `height="${n(height)}" role="img" aria-label="${esc(title)}" font-family="${FONT}" font-size="11" fill="${TEXT_COLOR}">` +
    `<text class="chart-title" x="${n(width / 2)}" y="16" text-anchor="middle" font-size="13" font-weight="600">${esc(title)}</text>`
  );
}

/** "1,000", "30,000". */
export function formatCount(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

/** One point of the pair-count sweep. */
export interface PairsChartPoint {
  pairs: number;
  auroc: Record<MethodId, Stat>;
}

/**
 * Mean AUROC vs the number of prompt pairs (log x axis): Ours and CLIP + Ours with ± std error
 * bars over seeds, CLIP (which does not depend on the pairs) as a flat reference line.
 */
export function pairsChart(points: readonly PairsChartPoint[], opts: { seeds: number; title?: string }): string {
  const pts = [...points].sort((a, b) => a.pairs - b.pairs);
  const xs = pts.map((p) => Math.log10(p.pairs));
  const lo = xs[0] ?? 0;
  const hi = xs[xs.length - 1] ?? 1;
  const pad = hi > lo ? (hi - lo) * 0.08 : 0.25;
  const x = { label: 'Prompt pairs N (log scale)', min: lo - pad, max: hi + pad, ticks: xs, tickFormat: (v: number) => formatCount(10 ** v) };
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const p of pts) {
    for (const m of ['clip', 'ours', 'clipOurs'] as const) {
      const s = p.auroc[m];
      yMin = Math.min(yMin, s.mean - s.std);
      yMax = Math.max(yMax, s.mean + s.std);
    }
  }
  if (!Number.isFinite(yMin)) [yMin, yMax] = [0, 1];
  const ySpan = Math.max(yMax - yMin, 0.04);
  const yLo = Math.max(0, yMin - ySpan * 0.15);
  const yHi = Math.min(1, yMax + ySpan * 0.15);
  let yTicks = niceTicks(yLo, yHi, 6);
  if (yTicks.length < 4) yTicks = niceTicks(yLo, yHi, 10);
  const y = { label: 'Mean AUROC (%)', min: yLo, max: yHi, ticks: yTicks, tickFormat: (v: number) => pct(v).replace(/\.0$/, '') };
  const series: LineSeries[] = [];
  if (pts.length > 0) {
    const clip = pts[0]!.auroc.clip.mean;
    series.push({ key: 'clip', name: `${METHOD_LABELS.clip} (${pct(clip)}, no training)`, color: METHOD_COLORS.clip, x: [x.min, x.max], y: [clip, clip], width: 1.5 });
  }
  const seedNote = `± std, ${opts.seeds} seed${opts.seeds === 1 ? '' : 's'}`;
  // The two methods' error bars sit just left and right of their N so that they never hide each other.
  const nudge = (x.max - x.min) * 0.012;
  (['ours', 'clipOurs'] as const).forEach((m, k) => {
    series.push({ key: m, name: METHOD_LABELS[m], color: METHOD_COLORS[m], x: xs, y: pts.map((p) => p.auroc[m].mean) });
    // Vertical segments mean − std .. mean + std with a NaN between them so the path breaks; a zero
    // std still draws a dot (round caps).
    const ex: number[] = [];
    const ey: number[] = [];
    pts.forEach((p, i) => {
      const at = xs[i]! + (k === 0 ? -nudge : nudge);
      ex.push(at, at, NaN);
      ey.push(p.auroc[m].mean - p.auroc[m].std, p.auroc[m].mean + p.auroc[m].std, NaN);
    });
    series.push({ key: `${m}-std`, name: `${METHOD_LABELS[m]} ${seedNote}`, color: METHOD_COLORS[m], x: ex, y: ey, width: 1.5 });
  });
  const legend = freeCorner(series, x, { min: yLo, max: yHi }, { width: 578, height: 330 });
  return lineChart({
    width: 640,
    height: 400,
    className: 'pairs-chart',
    title: opts.title ?? 'Mean AUROC vs number of prompt pairs',
    x,
    y,
    series,
    legend,
  });
}

/**
 * The legend corner that covers the fewest data points (sampled along every series), given the
 * plot area in pixels; the legend box is sized as svg.ts sizes it (6.1 px per character).
 */
function freeCorner(
  series: readonly LineSeries[],
  x: { min: number; max: number },
  y: { min: number; max: number },
  area: { width: number; height: number },
): 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right' {
  const w = (Math.max(...series.map((s) => s.name.length)) * 6.1 + 36 + 8) / area.width;
  const h = (series.length * 16 + 8 + 8) / area.height;
  const pts: Array<[number, number]> = [];
  for (const s of series) {
    for (let i = 0; i < s.x.length; i++) {
      const [x0, y0] = [s.x[i]!, s.y[i]!];
      if (!Number.isFinite(x0) || !Number.isFinite(y0)) continue;
      const [x1, y1] = [s.x[i + 1], s.y[i + 1]];
      const steps = x1 !== undefined && y1 !== undefined && Number.isFinite(x1) && Number.isFinite(y1) ? 20 : 0;
      for (let k = 0; k <= steps; k++) {
        const t = steps === 0 ? 0 : k / steps;
        const px = x0 + (steps === 0 ? 0 : (x1! - x0) * t);
        const py = y0 + (steps === 0 ? 0 : (y1! - y0) * t);
        pts.push([(px - x.min) / (x.max - x.min || 1), (py - y.min) / (y.max - y.min || 1)]);
      }
    }
  }
  const corners = ['bottom-right', 'top-right', 'bottom-left', 'top-left'] as const;
  let best: (typeof corners)[number] = corners[0];
  let fewest = Infinity;
  for (const c of corners) {
    const inX = c.endsWith('left') ? (u: number) => u <= w : (u: number) => u >= 1 - w;
    const inY = c.startsWith('bottom') ? (v: number) => v <= h : (v: number) => v >= 1 - h;
    const covered = pts.filter(([u, v]) => inX(u) && inY(v)).length;
    if (covered < fewest) [best, fewest] = [c, covered];
  }
  return best;
}

/** One cell of the word grid. */
export interface WordsGridCell {
  normalWord: string;
  anomalyWord: string;
  auroc: Record<MethodId, Stat>;
}

/** Fill opacity of a shaded cell: 0.06 at the grid's lowest CLIP + Ours AUROC, 0.5 at its highest. */
function shade(v: number, lo: number, hi: number): number {
  const t = hi > lo ? (v - lo) / (hi - lo) : 1;
  return Math.round((0.06 + 0.44 * Math.min(1, Math.max(0, t))) * 1000) / 1000;
}

/**
 * The word grid: rows = normal words, columns = anomaly words; each cell shows CLIP → CLIP + Ours
 * AUROC and Ours below, shaded by CLIP + Ours; the best CLIP + Ours cell is outlined.
 */
export function wordsGrid(rows: readonly string[], columns: readonly string[], cells: readonly WordsGridCell[], opts: { seeds: number; title?: string }): string {
  const cellW = 190;
  const cellH = 62;
  const quote = (w: string): string => `"${w}"`;
  const labelW = Math.max(90, Math.max(...rows.map((r) => quote(r).length)) * 7 + 24);
  const left = 28;
  const top = 62;
  const width = left + labelW + cellW * columns.length + 12;
  const height = top + cellH * rows.length + 44;
  const title = opts.title ?? 'AUROC by state words: CLIP → CLIP + Ours';
  const parts = [svgOpen('words-grid', width, height, title)];
  const gx = left + labelW;
  // Axis captions: anomaly words across, normal words down.
  parts.push(`<text class="axis-label" x="${n(gx + (cellW * columns.length) / 2)}" y="36" text-anchor="middle" font-size="12">Anomaly word</text>`);
  const ly = top + (cellH * rows.length) / 2;
  parts.push(`<text class="axis-label" x="14" y="${n(ly)}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${n(ly)})">Normal word</text>`);
  columns.forEach((c, j) => {
    parts.push(`<text class="column-label" x="${n(gx + cellW * j + cellW / 2)}" y="${n(top - 8)}" text-anchor="middle" font-weight="600">${esc(quote(c))}</text>`);
  });
  rows.forEach((r, i) => {
    parts.push(`<text class="row-label" x="${n(gx - 10)}" y="${n(top + cellH * i + cellH / 2 + 4)}" text-anchor="end" font-weight="600">${esc(quote(r))}</text>`);
  });
  const values = cells.map((c) => c.auroc.clipOurs.mean);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const best = values.indexOf(hi);
  const at = new Map(cells.map((c, k) => [`${c.normalWord}\u0000${c.anomalyWord}`, k]));
  rows.forEach((r, i) => {
    columns.forEach((c, j) => {
      const x = gx + cellW * j;
      const y = top + cellH * i;
      const k = at.get(`${r}\u0000${c}`);
      const attrs = `data-normal-word="${esc(r)}" data-anomaly-word="${esc(c)}"`;
      if (k === undefined) {
        parts.push(
          `<g class="cell missing" ${attrs}><rect x="${n(x)}" y="${n(y)}" width="${cellW}" height="${cellH}" fill="#ffffff" stroke="${GRID_COLOR}"/>` +
            `<text x="${n(x + cellW / 2)}" y="${n(y + cellH / 2 + 4)}" text-anchor="middle" fill="${MUTED}">not yet computed</text></g>`,
        );
        return;
      }
      const cell = cells[k]!;
      const a = cell.auroc;
      const stroke = k === best ? `stroke="${METHOD_COLORS.clipOurs}" stroke-width="2.5"` : `stroke="${GRID_COLOR}"`;
      parts.push(
        `<g class="cell" ${attrs} data-clip="${a.clip.mean}" data-clip-ours="${a.clipOurs.mean}" data-ours="${a.ours.mean}">` +
          `<rect x="${n(x)}" y="${n(y)}" width="${cellW}" height="${cellH}" fill="${METHOD_COLORS.clipOurs}" fill-opacity="${shade(a.clipOurs.mean, lo, hi)}" ${stroke}/>` +
          `<text class="main" x="${n(x + cellW / 2)}" y="${n(y + 26)}" text-anchor="middle" font-size="14">` +
          `<tspan fill="${METHOD_COLORS.clip}">${pct(a.clip.mean)}</tspan> → <tspan font-weight="700">${esc(formatStat(a.clipOurs))}</tspan></text>` +
          `<text class="ours" x="${n(x + cellW / 2)}" y="${n(y + 46)}" text-anchor="middle" fill="${MUTED}">Ours ${esc(formatStat(a.ours))}</text></g>`,
      );
    });
  });
  parts.push(
    `<text class="caption" x="${n(left)}" y="${n(top + cellH * rows.length + 26)}" fill="${MUTED}">` +
      esc(`Mean AUROC (%) over the categories; CLIP + Ours and Ours: mean ± std over ${opts.seeds} seed${opts.seeds === 1 ? '' : 's'}. Shade: CLIP + Ours; outlined: best.`) +
      '</text>',
  );
  parts.push('</svg>');
  return parts.join('');
}

/** Marker shapes of the scatter. */
export type Marker = 'circle' | 'square' | 'diamond' | 'triangle';

/** One group of scatter points. */
export interface ScatterGroup {
  /** Written as `data-group`. */
  key: string;
  name: string;
  color: string;
  marker: Marker;
  /** Interleaved x, y. */
  xy: ArrayLike<number>;
}

/** Default groups' look: prompts as small circles, images as larger squares / diamonds. */
export const TSNE_STYLE = {
  'text-normal': { color: CLASS_COLORS.normal, marker: 'circle' as Marker },
  'text-anomalous': { color: CLASS_COLORS.anomalous, marker: 'circle' as Marker },
  'image-normal': { color: '#1d4ed8', marker: 'square' as Marker },
  'image-anomalous': { color: '#b91c1c', marker: 'diamond' as Marker },
} as const;

export function markerPath(marker: Marker, x: number, y: number, r: number): string {
  switch (marker) {
    case 'circle':
      return `<circle cx="${n(x)}" cy="${n(y)}" r="${n(r)}"/>`;
    case 'square':
      return `<rect x="${n(x - r)}" y="${n(y - r)}" width="${n(2 * r)}" height="${n(2 * r)}"/>`;
    case 'diamond':
      return `<path d="M${n(x)} ${n(y - r * 1.3)}L${n(x + r * 1.3)} ${n(y)}L${n(x)} ${n(y + r * 1.3)}L${n(x - r * 1.3)} ${n(y)}Z"/>`;
    case 'triangle':
      return `<path d="M${n(x)} ${n(y - r * 1.3)}L${n(x + r * 1.2)} ${n(y + r)}L${n(x - r * 1.2)} ${n(y + r)}Z"/>`;
  }
}

/**
 * A 2-D scatter with equal scales on both axes (t-SNE distances are isotropic), a frame without
 * ticks (t-SNE coordinates have no units) and a legend with the group sizes below the plot.
 */
export function scatterPlot(groups: readonly ScatterGroup[], opts: { title: string; className?: string; size?: number }): string {
  const size = opts.size ?? 560;
  const left = 16;
  const top = 28;
  const legendRowH = 18;
  const legendH = 12 + legendRowH * Math.ceil(groups.length / 2);
  const width = size + 2 * left;
  const height = top + size + legendH;
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const g of groups) {
    for (let i = 0; i + 1 < g.xy.length; i += 2) {
      const x = g.xy[i]!;
      const y = g.xy[i + 1]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      xMin = Math.min(xMin, x);
      xMax = Math.max(xMax, x);
      yMin = Math.min(yMin, y);
      yMax = Math.max(yMax, y);
    }
  }
  if (!Number.isFinite(xMin)) [xMin, xMax, yMin, yMax] = [0, 1, 0, 1];
  const span = Math.max(xMax - xMin, yMax - yMin) || 1;
  const inner = size - 24;
  const k = inner / span;
  const cx = (xMin + xMax) / 2;
  const cy = (yMin + yMax) / 2;
  const px = (x: number): number => left + size / 2 + (x - cx) * k;
  const py = (y: number): number => top + size / 2 - (y - cy) * k;
  const parts = [svgOpen(opts.className ?? 'scatter', width, height, opts.title)];
  parts.push(`<rect x="${n(left)}" y="${n(top)}" width="${n(size)}" height="${n(size)}" fill="none" stroke="${AXIS_COLOR}"/>`);
  for (const g of groups) {
    const r = g.marker === 'circle' ? 2.2 : 3.2;
    const pts: string[] = [];
    for (let i = 0; i + 1 < g.xy.length; i += 2) {
      const x = g.xy[i]!;
      const y = g.xy[i + 1]!;
      if (Number.isFinite(x) && Number.isFinite(y)) pts.push(markerPath(g.marker, px(x), py(y), r));
    }
    const outline = g.marker === 'circle' ? 'stroke="none"' : 'stroke="#ffffff" stroke-width="0.6"';
    parts.push(`<g class="points" data-group="${esc(g.key)}" data-count="${pts.length}" fill="${esc(g.color)}" fill-opacity="0.75" ${outline}>${pts.join('')}</g>`);
  }
  const colW = size / 2;
  groups.forEach((g, i) => {
    const x = left + colW * (i % 2) + 8;
    const y = top + size + 14 + legendRowH * Math.floor(i / 2);
    const count = Math.floor(g.xy.length / 2);
    parts.push(
      `<g class="legend-entry" data-group="${esc(g.key)}" fill="${esc(g.color)}">${markerPath(g.marker, x + 6, y, 4)}</g>` +
        `<text x="${n(x + 18)}" y="${n(y + 4)}">${esc(`${g.name} (${formatCount(count)})`)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
