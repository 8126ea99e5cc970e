/**
 * Figure 5's SVG: one square t-SNE panel per layer in a row (CLIP input, then each FNN block), as in
 * the paper; colour = class, marker = domain (prompts as circles, sentences as triangles drawn on
 * top with a white outline, since they are fewer). Panels are `g.panel[data-layer]`, point groups
 * `g.points[data-group]`, legend entries `g.legend-entry[data-group]`.
 */
import { CLASS_COLORS } from '../report/html.ts';
import { escapeXml as esc } from '../report/svg.ts';
import type { DomainsFile } from './domains.ts';
import { formatCount, markerPath, type Marker } from './plots.ts';

/** Point groups in drawing order. */
export const DOMAIN_GROUPS = ['prompt-normal', 'prompt-anomalous', 'sentence-normal', 'sentence-anomalous'] as const;
export type DomainGroup = (typeof DOMAIN_GROUPS)[number];

export const DOMAIN_GROUP_NAMES: Record<DomainGroup, string> = {
  'prompt-normal': 'normal prompts',
  'prompt-anomalous': 'anomalous prompts',
  'sentence-normal': 'normal sentences ("normal")',
  'sentence-anomalous': 'anomalous sentences ("damage")',
};

const STYLE: Record<DomainGroup, { color: string; marker: Marker; r: number }> = {
  'prompt-normal': { color: CLASS_COLORS.normal, marker: 'circle', r: 1.6 },
  'prompt-anomalous': { color: CLASS_COLORS.anomalous, marker: 'circle', r: 1.6 },
  'sentence-normal': { color: CLASS_COLORS.normal, marker: 'triangle', r: 3 },
  'sentence-anomalous': { color: CLASS_COLORS.anomalous, marker: 'triangle', r: 3 },
};

const FONT = 'system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif';

function f(v: number): string {
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

/** The multi-panel figure of a domains file. */
export function renderDomainsSvg(file: DomainsFile): string {
  const r = file.results;
  const size = 280;
  const gap = 16;
  const top = 58;
  const left = 12;
  const k = r.panels.length;
  const width = left * 2 + k * size + (k - 1) * gap;
  const height = top + size + 56;
  const title = `t-SNE of ${formatCount(file.config.pairs)} prompt pairs and ${formatCount(r.captions.used)} sentences through the FNN`;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="domains-figure" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(title)}" font-family="${FONT}" font-size="11" fill="#1f2937">`,
    `<text class="chart-title" x="${f(width / 2)}" y="16" text-anchor="middle" font-size="13" font-weight="600">${esc(title)}</text>`,
  ];
  const groupOf = (i: number): DomainGroup => `${r.domain[i]!}-${r.label[i] === 1 ? 'anomalous' : 'normal'}` as DomainGroup;
  r.panels.forEach((p, j) => {
    const x0 = left + j * (size + gap);
    let [xMin, xMax, yMin, yMax] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let i = 0; i < r.n; i++) {
      xMin = Math.min(xMin, p.x[i]!);
      xMax = Math.max(xMax, p.x[i]!);
      yMin = Math.min(yMin, p.y[i]!);
      yMax = Math.max(yMax, p.y[i]!);
    }
    const span = Math.max(xMax - xMin, yMax - yMin) || 1;
    const s = (size - 16) / span;
    const px = (v: number): number => x0 + size / 2 + (v - (xMin + xMax) / 2) * s;
    const py = (v: number): number => top + size / 2 - (v - (yMin + yMax) / 2) * s;
    parts.push(
      `<g class="panel" data-layer="${esc(p.layer)}" data-nn1-normality="${p.nn1.normality}" data-nn1-domain="${p.nn1.domain}">` +
        `<text class="panel-title" x="${f(x0 + size / 2)}" y="${top - 22}" text-anchor="middle" font-weight="600">${esc(p.name)}</text>` +
        `<text class="panel-nn1" x="${f(x0 + size / 2)}" y="${top - 8}" text-anchor="middle" fill="#6b7280">${esc(`1-NN: class ${(100 * p.nn1.normality).toFixed(1)}%, domain ${(100 * p.nn1.domain).toFixed(1)}%`)}</text>` +
        `<rect x="${x0}" y="${top}" width="${size}" height="${size}" fill="none" stroke="#6b7280"/>`,
    );
    for (const g of DOMAIN_GROUPS) {
      const st = STYLE[g];
      const pts: string[] = [];
      for (let i = 0; i < r.n; i++) if (groupOf(i) === g) pts.push(markerPath(st.marker, px(p.x[i]!), py(p.y[i]!), st.r));
      const outline = st.marker === 'circle' ? 'stroke="none"' : 'stroke="#ffffff" stroke-width="0.6"';
      parts.push(`<g class="points" data-group="${g}" data-count="${pts.length}" fill="${st.color}" fill-opacity="0.75" ${outline}>${pts.join('')}</g>`);
    }
    parts.push('</g>');
  });
  const ly = top + size + 26;
  const colW = (width - 2 * left) / DOMAIN_GROUPS.length;
  DOMAIN_GROUPS.forEach((g, i) => {
    const x = left + colW * i + 8;
    parts.push(
      `<g class="legend-entry" data-group="${g}" fill="${STYLE[g].color}">${markerPath(STYLE[g].marker, x + 6, ly, 4.5)}</g>` +
        `<text x="${f(x + 18)}" y="${f(ly + 4)}">${esc(`${DOMAIN_GROUP_NAMES[g]} (${formatCount(r.counts[g])})`)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
