// Renders report.html in headless Chromium and checks the screenshot's pixels: the curves and histograms must really
// be drawn, each in its own column of the chart grid. Skipped when Debian's `chromium` is not installed
// (`apt-get install -y chromium`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { CLASS_COLORS, METHOD_COLORS, METHODS, renderHtml } from '../../src/eval/report/index.ts';
import { makeResults } from './report_fixture.ts';

const CHROMIUM = process.env.RWDA_CHROMIUM ?? 'chromium';
const WIDTH = 1200;
const HEIGHT = 2000;

function chromiumAvailable(): boolean {
  const r = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 && /chromium/i.test(r.stdout);
}

function screenshot(dir: string, html: string, name: string): string {
  const page = join(dir, `${name}.html`);
  const shot = join(dir, `${name}.png`);
  writeFileSync(page, html);
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
    `--user-data-dir=${join(dir, 'profile')}`,
    `--screenshot=${shot}`,
    `--window-size=${WIDTH},${HEIGHT}`,
    pathToFileURL(page).href,
  ];
  const r = spawnSync(CHROMIUM, args, { encoding: 'utf8', timeout: 90_000 });
  assert.equal(r.status, 0, `chromium failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return shot;
}

function hex(c: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)) as [number, number, number];
}

/** Pixels within `tol` per channel of `color`, counted per third of the window width. */
async function countByColumn(png: string, color: string, tol = 30): Promise<[number, number, number]> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.width, WIDTH);
  const [r, g, b] = hex(color);
  const out: [number, number, number] = [0, 0, 0];
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const i = (y * info.width + x) * 3;
      if (Math.abs(data[i]! - r) <= tol && Math.abs(data[i + 1]! - g) <= tol && Math.abs(data[i + 2]! - b) <= tol) {
        out[Math.min(2, Math.floor((x * 3) / info.width))]++;
      }
    }
  }
  return out;
}

test('report.html renders in Chromium: ROC / PR curves in every method colour, histograms beside them', async (t) => {
  if (!chromiumAvailable()) {
    t.skip(`'${CHROMIUM}' not found: install Debian's chromium (apt-get install -y chromium) to run the render test`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'rwda-render-'));
  try {
    const html = renderHtml(makeResults());
    // Keep only the per-category plots and hide legends, so every method-coloured pixel is a curve and every
    // class-coloured pixel a histogram.
    const plotsOnly = html.replace(
      '</head>',
      '<style>section:not(#plots), header, footer, .legend-row, g.legend { display: none !important; }</style></head>',
    );
    const shot = screenshot(dir, plotsOnly, 'plots');
    const full = screenshot(dir, html, 'full');
    const keep = process.env.RWDA_REPORT_SHOTS;
    if (keep) {
      mkdirSync(keep, { recursive: true });
      copyFileSync(shot, join(keep, 'plots.png'));
      copyFileSync(full, join(keep, 'full.png'));
    }
    // Two categories, each with a ROC chart (left column) and a PR chart (middle column).
    for (const m of METHODS) {
      const [roc, pr, hist] = await countByColumn(shot, METHOD_COLORS[m]);
      assert.ok(roc > 150, `${m}: ${roc} pixels of ${METHOD_COLORS[m]} in the ROC column`);
      assert.ok(pr > 150, `${m}: ${pr} pixels in the PR column`);
      assert.ok(hist < 20, `${m}: ${hist} pixels in the histogram column`);
    }
    for (const [cls, color] of Object.entries(CLASS_COLORS)) {
      const [roc, pr, hist] = await countByColumn(shot, color);
      assert.ok(hist > 150, `${cls}: ${hist} pixels of ${color} in the histogram column`);
      assert.ok(roc + pr < 20, `${cls}: ${roc + pr} pixels outside the histogram column`);
    }
    // The full page draws the summary too: far more non-white pixels than the plots alone would need.
    const { data } = await sharp(full).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    let ink = 0;
    for (let i = 0; i < data.length; i += 3) if (data[i]! < 200 || data[i + 1]! < 200 || data[i + 2]! < 200) ink++;
    assert.ok(ink > 50_000, `full page has only ${ink} dark pixels`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
