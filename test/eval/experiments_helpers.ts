// Shared by the experiment tests: an XML well-formedness check for the SVG files, element
// extraction by class, and the schema checks every experiment JSON file must pass.
import assert from 'node:assert/strict';

/**
 * Asserts that `xml` is well-formed in the subset our SVG writer uses: every element closed in
 * order (or self-closed), attributes double-quoted and unique, `&` only in entities, no stray `<`,
 * one root element. Returns the element names in document order.
 */
export function checkXml(xml: string): string[] {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const seen: string[] = [];
  let roots = 0;
  let last = 0;
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const between = body.slice(last, m.index);
    assert.ok(!between.includes('<') && !between.includes('>'), `stray angle bracket before offset ${m.index}: ${between.slice(0, 60)}`);
    for (const amp of between.matchAll(/&/g)) {
      assert.match(between.slice(amp.index), /^&(amp|lt|gt|quot|#39);/, `bare & in text near offset ${m.index}`);
    }
    last = m.index! + m[0].length;
    const [, close, name, attrs, self] = m;
    if (close) {
      assert.equal(attrs, '', `</${name}> with attributes`);
      const top = stack.pop();
      assert.equal(top, name, `</${name}> closes <${top}> at offset ${m.index}`);
      continue;
    }
    if (stack.length === 0) roots++;
    seen.push(name!);
    const names = [...attrs!.matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => {
      assert.ok(!/NaN|Infinity|undefined/.test(a[2]!), `<${name} ${a[1]}="${a[2]}">`);
      for (const amp of a[2]!.matchAll(/&/g)) assert.match(a[2]!.slice(amp.index), /^&(amp|lt|gt|quot|#39);/, `bare & in ${a[1]}`);
      return a[1]!;
    });
    assert.equal(new Set(names).size, names.length, `duplicate attribute in <${name}>`);
    if (!self) stack.push(name!);
  }
  assert.equal(body.slice(last).trim(), '', 'text after the root element');
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.equal(roots, 1, 'exactly one root element');
  return seen;
}

/** Opening tags (with their attributes) of elements whose class list contains `cls`. */
export function elementsWithClass(xml: string, tag: string, cls: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}\\b[^>]*\\bclass="(?:[^"]* )?${cls}(?: [^"]*)?"[^>]*>`, 'g'))].map((m) => m[0]);
}

/** An attribute's value in an opening tag. */
export function attr(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
}

/** The `d` of `<path class="curve" data-method=KEY>`, or undefined. */
export function curvePath(svg: string, key: string): string | undefined {
  return new RegExp(`<path class="curve" data-method="${key}" d="([^"]*)"`).exec(svg)?.[1];
}

/** Number of subpaths (M commands) of a path. */
export function subpaths(d: string): number {
  return (d.match(/M/g) ?? []).length;
}

/** Checks a mean ± std Stat: finite, in [0, 1], `n` values whose mean and sample std it holds. */
export function checkStat(s: unknown, n: number, what: string): void {
  const v = s as { mean: number; std: number; values: number[] };
  assert.ok(Array.isArray(v.values) && v.values.length === n, `${what}: ${n} values`);
  for (const x of v.values) assert.ok(Number.isFinite(x) && x >= 0 && x <= 1, `${what}: value ${x}`);
  const mean = v.values.reduce((a, x) => a + x, 0) / n;
  assert.ok(Math.abs(v.mean - mean) < 1e-12, `${what}: mean`);
  const std = n > 1 ? Math.sqrt(v.values.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : 0;
  assert.ok(Math.abs(v.std - std) < 1e-12, `${what}: std`);
}

/** The fields every experiment file has. */
export function checkEnvelope(file: Record<string, any>, experiment: string): void {
  assert.equal(file.format, 'rwda-experiment/v1');
  assert.equal(file.experiment, experiment);
  assert.equal(typeof file.partial, 'boolean');
  assert.ok(!Number.isNaN(Date.parse(file.createdAt)), 'createdAt');
  assert.match(file.rwdaVersion, /^\d+\.\d+\.\d+/);
  assert.equal(file.versions.node, process.versions.node);
  assert.equal(typeof file.versions.onnxruntime, 'string');
  assert.ok(Number.isFinite(file.durationSeconds) && file.durationSeconds >= 0);
  assert.equal(typeof file.config.backbone.fingerprint, 'string');
  for (const k of ['viewsEncoded', 'viewsCached', 'detectorsTrained', 'detectorsLoaded', 'textsEncoded', 'seedsComputed', 'seedsReused']) {
    assert.ok(Number.isInteger(file.stats[k]) && file.stats[k] >= 0, `stats.${k}`);
  }
  assert.ok(Number.isInteger(file.stats.store.textWrites));
  assert.ok(Array.isArray(file.skipped) && Array.isArray(file.notes));
}

/** The headline block of a method: auroc, ap, f1Max Stats with `n` values each. */
export function checkHeadline(m: Record<string, unknown>, n: number, what: string): void {
  assert.deepEqual(Object.keys(m).sort(), ['ap', 'auroc', 'f1Max'], what);
  for (const k of ['auroc', 'ap', 'f1Max']) checkStat(m[k], n, `${what}.${k}`);
}
