/**
 * Small dependency-free SVG plotting for the HTML report: line charts (ROC / PR curves, experiment sweeps), score
 * histograms and grouped bar charts. Output is a standalone `<svg>` string with inline presentation attributes, so
 * it renders without CSS or scripts. Every number written is finite (non-finite data points are skipped) and
 * rounded to 0.01 px.
 */

/** One axis in data units. */
export interface Axis {
  label: string;
  min: number;
  max: number;
  /** Tick positions; default {@link niceTicks} over [min, max]. */
  ticks?: readonly number[];
  tickFormat?: (v: number) => string;
}

/** Size, class and extra attributes of the `<svg>` element. */
export interface ChartFrame {
  width: number;
  height: number;
  /** The `class` of the `<svg>`, e.g. `roc-curve`. */
  className: string;
  /** Further attributes (e.g. `{ 'data-category': 'bottle' }`); values are escaped. */
  attrs?: Readonly<Record<string, string>>;
  /** Title drawn above the plot and used as the accessible name. */
  title?: string;
}

/** Where the legend box sits inside the plot area. */
export type LegendPlace = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right' | 'none';

/** A polyline in data units. */
export interface LineSeries {
  /** Written as `data-method` of the path (stable hook for tests and styling). */
  key: string;
  /** Legend text. */
  name: string;
  color: string;
  x: readonly number[];
  y: readonly number[];
  width?: number;
}

/** A dashed reference segment (chance diagonal, prevalence line) in data units. */
export interface Guide {
  x: readonly [number, number];
  y: readonly [number, number];
}

export interface LineChartOptions extends ChartFrame {
  x: Axis;
  y: Axis;
  series: readonly LineSeries[];
  guides?: readonly Guide[];
  legend?: LegendPlace;
}

export interface HistogramSeries {
  /** Written as `data-series`. */
  key: string;
  name: string;
  color: string;
  counts: readonly number[];
}

export interface HistogramChartOptions extends ChartFrame {
  /** Bin edges, increasing, one more than each series' counts. */
  edges: readonly number[];
  series: readonly HistogramSeries[];
  xLabel: string;
  yLabel: string;
  legend?: LegendPlace;
}

export interface BarSeries {
  /** Written as `data-method`. */
  key: string;
  name: string;
  color: string;
  /** One per group; non-finite values draw no bar. */
  values: readonly number[];
  /** Half-length of the error bar per group (e.g. a std). */
  errors?: readonly number[];
}

export interface BarChartOptions extends ChartFrame {
  groups: readonly string[];
  series: readonly BarSeries[];
  y: Axis;
  legend?: LegendPlace;
}

const FONT = 'system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif';
const AXIS_COLOR = '#6b7280';
const GRID_COLOR = '#e5e7eb';
const TEXT_COLOR = '#1f2937';

/** Escapes text for XML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A coordinate as text: rounded to 0.01, never "-0", never NaN (callers filter non-finite input). */
function n(v: number): string {
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

function decimalsOf(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/** About `count` round tick values (steps of 1, 2 or 5 × 10^k) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max < min) [min, max] = [max, min];
  if (max === min) return [min];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  const step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  const d = decimalsOf(step);
  const out: number[] = [];
  for (let i = Math.ceil(min / step - 1e-9); i * step <= max + step * 1e-9; i++) out.push(Number((i * step).toFixed(d)));
  return out;
}

/** Like {@link niceTicks}, but the last tick is at or above `max` (for axes that must contain the data). */
export function niceTicksCovering(min: number, max: number, count = 5): number[] {
  const t = niceTicks(min, max, count);
  if (t.length < 2) return t.length === 1 ? [t[0]!, t[0]! + 1] : [min, max];
  const step = t[1]! - t[0]!;
  const last = t[t.length - 1]!;
  return last >= max - step * 1e-9 ? t : [...t, Number((last + step).toFixed(decimalsOf(step)))];
}

function defaultFormat(ticks: readonly number[]): (v: number) => string {
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1;
  const d = step > 0 ? decimalsOf(step) : 0;
  return (v) => {
    const s = v.toFixed(Math.min(d, 6));
    return s.startsWith('-') && Number(s) === 0 ? s.slice(1) : s;
  };
}

interface Plot {
  left: number;
  top: number;
  width: number;
  height: number;
}

function svgOpen(f: ChartFrame): string {
  const attrs = Object.entries(f.attrs ?? {})
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
  const label = f.title ? ` aria-label="${escapeXml(f.title)}"` : '';
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="${escapeXml(f.className)}"${attrs} viewBox="0 0 ${n(f.width)} ${n(f.height)}" ` +
    `width="${n(f.width)}" height="${n(f.height)}" role="img"${label} font-family="${FONT}" font-size="11" fill="${TEXT_COLOR}">`
  );
}

function titleText(f: ChartFrame): string {
  return f.title ? `<text class="chart-title" x="${n(f.width / 2)}" y="16" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(f.title)}</text>` : '';
}

function plotArea(f: ChartFrame, bottom: number): Plot {
  const top = f.title ? 26 : 10;
  const left = 50;
  const right = 12;
  return { left, top, width: f.width - left - right, height: f.height - top - bottom };
}

function scale(a: { min: number; max: number }, from: number, size: number, flip: boolean): (v: number) => number {
  const span = a.max - a.min || 1;
  return flip ? (v) => from + size - ((v - a.min) / span) * size : (v) => from + ((v - a.min) / span) * size;
}

/** Grid, frame, ticks and axis labels. `xTicks` null: the caller draws x labels itself. */
function axes(p: Plot, x: Axis | null, y: Axis, sx: (v: number) => number, sy: (v: number) => number): string {
  const parts: string[] = [];
  const yt = (y.ticks ?? niceTicks(y.min, y.max)).filter((t) => t >= y.min - 1e-12 && t <= y.max + 1e-12);
  const yf = y.tickFormat ?? defaultFormat(yt);
  for (const t of yt) {
    const py = sy(t);
    parts.push(`<line x1="${n(p.left)}" y1="${n(py)}" x2="${n(p.left + p.width)}" y2="${n(py)}" stroke="${GRID_COLOR}" stroke-width="1"/>`);
    parts.push(`<line x1="${n(p.left - 4)}" y1="${n(py)}" x2="${n(p.left)}" y2="${n(py)}" stroke="${AXIS_COLOR}"/>`);
    parts.push(`<text x="${n(p.left - 7)}" y="${n(py + 3.5)}" text-anchor="end">${escapeXml(yf(t))}</text>`);
  }
  if (x) {
    const xt = (x.ticks ?? niceTicks(x.min, x.max)).filter((t) => t >= x.min - 1e-12 && t <= x.max + 1e-12);
    const xf = x.tickFormat ?? defaultFormat(xt);
    for (const t of xt) {
      const px = sx(t);
      parts.push(`<line x1="${n(px)}" y1="${n(p.top)}" x2="${n(px)}" y2="${n(p.top + p.height)}" stroke="${GRID_COLOR}" stroke-width="1"/>`);
      parts.push(`<line x1="${n(px)}" y1="${n(p.top + p.height)}" x2="${n(px)}" y2="${n(p.top + p.height + 4)}" stroke="${AXIS_COLOR}"/>`);
      parts.push(`<text x="${n(px)}" y="${n(p.top + p.height + 16)}" text-anchor="middle">${escapeXml(xf(t))}</text>`);
    }
    parts.push(
      `<text class="axis-label" x="${n(p.left + p.width / 2)}" y="${n(p.top + p.height + 34)}" text-anchor="middle" font-size="12">${escapeXml(x.label)}</text>`,
    );
  }
  const ly = p.top + p.height / 2;
  parts.push(
    `<text class="axis-label" x="14" y="${n(ly)}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${n(ly)})">${escapeXml(y.label)}</text>`,
  );
  parts.push(`<rect x="${n(p.left)}" y="${n(p.top)}" width="${n(p.width)}" height="${n(p.height)}" fill="none" stroke="${AXIS_COLOR}"/>`);
  return parts.join('');
}

function legend(p: Plot, place: LegendPlace, entries: ReadonlyArray<{ name: string; color: string; kind: 'line' | 'box' }>): string {
  if (place === 'none' || entries.length === 0) return '';
  const rowH = 16;
  // No text measurement without a DOM: 6.1 px per character approximates an 11 px sans-serif font.
  const w = Math.max(...entries.map((e) => e.name.length)) * 6.1 + 36;
  const h = entries.length * rowH + 8;
  const x = place.endsWith('left') ? p.left + 8 : p.left + p.width - w - 8;
  const y = place.startsWith('top') ? p.top + 8 : p.top + p.height - h - 8;
  const parts = [
    `<g class="legend"><rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" rx="3" fill="#ffffff" fill-opacity="0.9" stroke="${GRID_COLOR}"/>`,
  ];
  entries.forEach((e, i) => {
    const cy = y + 4 + rowH * i + rowH / 2;
    parts.push(
      e.kind === 'line'
        ? `<line x1="${n(x + 8)}" y1="${n(cy)}" x2="${n(x + 26)}" y2="${n(cy)}" stroke="${escapeXml(e.color)}" stroke-width="2.5"/>`
        : `<rect x="${n(x + 10)}" y="${n(cy - 5)}" width="14" height="10" fill="${escapeXml(e.color)}" fill-opacity="0.35" stroke="${escapeXml(e.color)}" stroke-width="1.5"/>`,
    );
    parts.push(`<text x="${n(x + 32)}" y="${n(cy + 3.5)}">${escapeXml(e.name)}</text>`);
  });
  parts.push('</g>');
  return parts.join('');
}

/** Path data of a polyline; a non-finite point breaks the line. Empty string if nothing is drawable. */
function polyline(xs: readonly number[], ys: readonly number[], sx: (v: number) => number, sy: (v: number) => number): string {
  const parts: string[] = [];
  let pen = false;
  const len = Math.min(xs.length, ys.length);
  for (let i = 0; i < len; i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    parts.push(`${pen ? 'L' : 'M'}${n(sx(x))} ${n(sy(y))}`);
    pen = true;
  }
  return parts.join('');
}

/** A line chart: one `<path class="curve" data-method=KEY>` per series, optional dashed guides, legend. */
export function lineChart(o: LineChartOptions): string {
  const p = plotArea(o, 44);
  const sx = scale(o.x, p.left, p.width, false);
  const sy = scale(o.y, p.top, p.height, true);
  const parts = [svgOpen(o), titleText(o), axes(p, o.x, o.y, sx, sy)];
  for (const g of o.guides ?? []) {
    const d = polyline(g.x, g.y, sx, sy);
    if (d) parts.push(`<path class="guide" d="${d}" fill="none" stroke="#9ca3af" stroke-width="1" stroke-dasharray="4 3"/>`);
  }
  for (const s of o.series) {
    const d = polyline(s.x, s.y, sx, sy);
    if (!d) continue;
    parts.push(
      `<path class="curve" data-method="${escapeXml(s.key)}" d="${d}" fill="none" stroke="${escapeXml(s.color)}" ` +
        `stroke-width="${n(s.width ?? 2)}" stroke-linejoin="round" stroke-linecap="round"/>`,
    );
  }
  parts.push(legend(p, o.legend ?? 'bottom-right', o.series.map((s) => ({ name: s.name, color: s.color, kind: 'line' as const }))));
  parts.push('</svg>');
  return parts.join('');
}

/** Overlaid histograms: translucent bars plus an opaque step outline per series. */
export function histogramChart(o: HistogramChartOptions): string {
  const p = plotArea(o, 44);
  const e = o.edges;
  const lo = e[0] ?? 0;
  const hi = e[e.length - 1] ?? 1;
  let maxCount = 0;
  for (const s of o.series) for (const c of s.counts) if (Number.isFinite(c)) maxCount = Math.max(maxCount, c);
  // Headroom above the tallest bar keeps the top-corner legend off the bars.
  const yTicks = niceTicksCovering(0, Math.max(1, maxCount * 1.3), 4);
  const yAxis: Axis = { label: o.yLabel, min: 0, max: yTicks[yTicks.length - 1]! };
  const xAxis: Axis = { label: o.xLabel, min: lo, max: hi > lo ? hi : lo + 1 };
  const sx = scale(xAxis, p.left, p.width, false);
  const sy = scale(yAxis, p.top, p.height, true);
  const parts = [svgOpen(o), titleText(o), axes(p, xAxis, { ...yAxis, ticks: yTicks }, sx, sy)];
  // All fills first, then all outlines, so no series' outline hides under another's fill.
  const fills: string[] = [];
  const outlines: string[] = [];
  for (const s of o.series) {
    const bars: string[] = [];
    const outline: string[] = [];
    const bins = Math.min(s.counts.length, e.length - 1);
    for (let i = 0; i < bins; i++) {
      const c = s.counts[i]!;
      const x0 = sx(e[i]!);
      const x1 = sx(e[i + 1]!);
      const yc = sy(Number.isFinite(c) ? c : 0);
      if (![x0, x1, yc].every(Number.isFinite)) continue;
      if (c > 0) bars.push(`M${n(x0)} ${n(sy(0))}V${n(yc)}H${n(x1)}V${n(sy(0))}Z`);
      outline.push(`${outline.length === 0 ? `M${n(x0)} ${n(sy(0))}` : ''}V${n(yc)}H${n(x1)}`);
    }
    if (outline.length === 0) continue;
    const key = escapeXml(s.key);
    const color = escapeXml(s.color);
    if (bars.length > 0) fills.push(`<path class="bars" data-series="${key}" d="${bars.join('')}" fill="${color}" fill-opacity="0.3" stroke="none"/>`);
    outlines.push(
      `<path class="outline" data-series="${key}" d="${outline.join('')}V${n(sy(0))}" fill="none" stroke="${color}" stroke-width="1.75" stroke-linejoin="miter"/>`,
    );
  }
  parts.push(...fills, ...outlines);
  parts.push(legend(p, o.legend ?? 'top-right', o.series.map((s) => ({ name: s.name, color: s.color, kind: 'box' as const }))));
  parts.push('</svg>');
  return parts.join('');
}

/** Grouped vertical bars with optional error bars; group labels are slanted when they would collide. */
export function barChart(o: BarChartOptions): string {
  const longest = Math.max(0, ...o.groups.map((g) => g.length));
  const p0 = plotArea(o, 40);
  const slot = o.groups.length > 0 ? p0.width / o.groups.length : p0.width;
  const slant = longest * 6.1 > slot - 4;
  const p = plotArea(o, slant ? Math.min(110, 30 + longest * 4.6) : 40);
  const sy = scale(o.y, p.top, p.height, true);
  const parts = [svgOpen(o), titleText(o), axes(p, null, o.y, (v) => v, sy)];
  const groupW = o.groups.length > 0 ? p.width / o.groups.length : p.width;
  const barW = (groupW * 0.8) / Math.max(1, o.series.length);
  o.groups.forEach((g, gi) => {
    const gx = p.left + groupW * gi;
    const cx = gx + groupW / 2;
    const ty = p.top + p.height + 14;
    parts.push(
      slant
        ? `<text x="${n(cx)}" y="${n(ty)}" text-anchor="end" transform="rotate(-35 ${n(cx)} ${n(ty)})">${escapeXml(g)}</text>`
        : `<text x="${n(cx)}" y="${n(ty)}" text-anchor="middle">${escapeXml(g)}</text>`,
    );
  });
  const base = sy(Math.max(o.y.min, Math.min(o.y.max, 0)));
  o.series.forEach((s, si) => {
    const rects: string[] = [];
    const errs: string[] = [];
    o.groups.forEach((_, gi) => {
      const v = s.values[gi];
      if (v === undefined || !Number.isFinite(v)) return;
      const x = p.left + groupW * gi + groupW * 0.1 + barW * si;
      const clamped = Math.max(o.y.min, Math.min(o.y.max, v));
      const y = sy(clamped);
      rects.push(`M${n(x)} ${n(base)}V${n(y)}H${n(x + barW)}V${n(base)}Z`);
      const err = s.errors?.[gi];
      if (err !== undefined && Number.isFinite(err) && err > 0) {
        const y0 = sy(Math.max(o.y.min, clamped - err));
        const y1 = sy(Math.min(o.y.max, clamped + err));
        const cx = x + barW / 2;
        errs.push(`M${n(cx)} ${n(y0)}V${n(y1)}M${n(cx - 3)} ${n(y0)}H${n(cx + 3)}M${n(cx - 3)} ${n(y1)}H${n(cx + 3)}`);
      }
    });
    const key = escapeXml(s.key);
    if (rects.length > 0) parts.push(`<path class="bar" data-method="${key}" d="${rects.join('')}" fill="${escapeXml(s.color)}"/>`);
    if (errs.length > 0) parts.push(`<path class="error-bar" data-method="${key}" d="${errs.join('')}" fill="none" stroke="#111827" stroke-width="1"/>`);
  });
  parts.push(legend(p, o.legend ?? 'bottom-right', o.series.map((s) => ({ name: s.name, color: s.color, kind: 'line' as const }))));
  parts.push('</svg>');
  return parts.join('');
}
