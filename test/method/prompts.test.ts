import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  augmentedPairs,
  fillTemplate,
  iterAugmentedPairs,
  joinWords,
  objectName,
  promptPair,
  randomWord,
  wordSpec,
} from '../../src/methods/rwda/prompts.ts';
import { Rng } from '../../src/util/rng.ts';
import { RwdaError } from '../../src/errors.ts';

// Positions of the five random words in a full prompt
// "w0 a w1 photo w2 of w3 <normalWord> object w4" with the default words ("a", "object").
const WORD_POS = [0, 2, 4, 6, 9];

function wordsOf(prompt: string): string[] {
  const t = prompt.split(' ');
  assert.equal(t.length, 10, prompt);
  return WORD_POS.map((i) => t[i]!);
}

test('promptPair: unknown-object and known-object setups', () => {
  assert.deepEqual(promptPair(), { normal: 'a photo of a object', anomaly: 'a photo of a damaged object' });
  assert.deepEqual(promptPair({ object: 'metal nut' }), {
    normal: 'a photo of a metal nut',
    anomaly: 'a photo of a damaged metal nut',
  });
  assert.deepEqual(promptPair({ object: 'bottle', normalWord: 'a flawless', anomalyWord: 'a broken' }), {
    normal: 'a photo of a flawless bottle',
    anomaly: 'a photo of a broken bottle',
  });
  // An empty normal word leaves no double space.
  assert.deepEqual(promptPair({ normalWord: '' }), {
    normal: 'a photo of object',
    anomaly: 'a photo of a damaged object',
  });
});

test('promptPair rejects an empty object and identical normal/anomaly words', () => {
  assert.throws(() => promptPair({ object: '  ' }), (e: unknown) => e instanceof RwdaError && /object/.test(e.message));
  assert.throws(
    () => promptPair({ normalWord: 'a', anomalyWord: ' a ' }),
    (e: unknown) => e instanceof RwdaError && /normalWord and anomalyWord/.test(e.message),
  );
});

test('objectName turns category names into words', () => {
  assert.equal(objectName('metal_nut'), 'metal nut');
  assert.equal(objectName('pcb1'), 'pcb1');
  assert.equal(objectName('chewing_gum'), 'chewing gum');
  assert.throws(() => objectName('_'), RwdaError);
});

test('augmentedPairs: stored expectation for seed 0 (forever)', () => {
  assert.deepEqual(augmentedPairs({ n: 3, seed: 0 }), [
    {
      normal: 'o0fuh a 3zc7rxel photo pkpd6nl5 of 4s3hn2e8c3 a object cpx9j3',
      anomaly: 'o0fuh a 3zc7rxel photo pkpd6nl5 of 4s3hn2e8c3 a damaged object cpx9j3',
    },
    {
      normal: 'p4kh0ukk9n a 4dnsn photo fht3qrs0k of 933w95gn a object guteph70',
      anomaly: 'p4kh0ukk9n a 4dnsn photo fht3qrs0k of 933w95gn a damaged object guteph70',
    },
    {
      normal: 'j3urmogdiu a kagvsm photo xyzb66fib of 11ctc9su a object enhdzo',
      anomaly: 'j3urmogdiu a kagvsm photo xyzb66fib of 11ctc9su a damaged object enhdzo',
    },
  ]);
});

test('augmentedPairs: stored expectation for seed 42, shared and independent words (forever)', () => {
  assert.deepEqual(augmentedPairs({ n: 2, seed: 42 }), [
    {
      normal: 'jrb0i a apf7v6k8zp photo sbv75iut3l of 41ectj a object pjky0rqke',
      anomaly: 'jrb0i a apf7v6k8zp photo sbv75iut3l of 41ectj a damaged object pjky0rqke',
    },
    {
      normal: 'qufmhmu a 2pquhke4 photo 8szww4m of tbeumxh1 a object yu9zg6fs5u',
      anomaly: 'qufmhmu a 2pquhke4 photo 8szww4m of tbeumxh1 a damaged object yu9zg6fs5u',
    },
  ]);
  assert.deepEqual(augmentedPairs({ n: 2, seed: 0, independent: true }), [
    {
      normal: 'o0fuh a 3zc7rxel photo pkpd6nl5 of 4s3hn2e8c3 a object cpx9j3',
      anomaly: 'ur2iynzcsm a ryz8ef photo zropf of 4m44ia a damaged object wk8rkh',
    },
    {
      normal: 'p4kh0ukk9n a 4dnsn photo fht3qrs0k of 933w95gn a object guteph70',
      anomaly: '9h1006ru3 a 2l1n4k401 photo ddcxq6 of mpot4bp a damaged object jypnvdx3',
    },
  ]);
});

test('augmentedPairs follows the documented PRNG use (fork normal stream, length then characters)', () => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const root = new Rng(1234);
  const stream = root.fork();
  const word = (): string => {
    const len = stream.int(5, 10);
    let w = '';
    for (let i = 0; i < len; i++) w += alphabet[stream.int(0, 35)];
    return w;
  };
  const pairs = augmentedPairs({ n: 20, seed: 1234 });
  for (const p of pairs) {
    const w = [word(), word(), word(), word(), word()];
    assert.equal(p.normal, `${w[0]} a ${w[1]} photo ${w[2]} of ${w[3]} a object ${w[4]}`);
  }
});

test('pair i does not depend on n: 100 pairs are a prefix of 10,000', () => {
  const long = augmentedPairs({ n: 10_000, seed: 7 });
  assert.equal(long.length, 10_000);
  assert.deepEqual(augmentedPairs({ n: 100, seed: 7 }), long.slice(0, 100));
  assert.deepEqual(augmentedPairs({ n: 1, seed: 7 }), long.slice(0, 1));
  assert.deepEqual(augmentedPairs({ n: 0, seed: 7 }), []);
  const it = iterAugmentedPairs({ seed: 7 });
  for (let i = 0; i < 50; i++) assert.deepEqual(it.next().value, long[i]);
  // Different seeds give different prompts; the same seed is deterministic.
  assert.notDeepEqual(augmentedPairs({ n: 5, seed: 8 }), long.slice(0, 5));
  assert.equal(new Set(long.map((p) => p.normal)).size, 10_000);
});

test('random word lengths are uniform on 5..10 inclusive (20,000 words)', () => {
  const pairs = augmentedPairs({ n: 4000, seed: 0 });
  const words = pairs.flatMap((p) => wordsOf(p.normal));
  assert.equal(words.length, 20_000);
  const counts = new Map<number, number>();
  for (const w of words) counts.set(w.length, (counts.get(w.length) ?? 0) + 1);
  assert.deepEqual([...counts.keys()].sort((a, b) => a - b), [5, 6, 7, 8, 9, 10]);
  // Each length: expected 3333.3, σ ≈ 52.7; a 5σ band. An off-by-one range (5..9, 6..10) leaves a
  // length at 0 or puts ~4000 in each, both far outside.
  for (const [len, c] of counts) assert.ok(Math.abs(c - 20_000 / 6) < 264, `length ${len}: ${c}`);
});

test('random word characters: only the alphabet, all 36 occur, uniform (chi-squared)', () => {
  const pairs = augmentedPairs({ n: 4000, seed: 1 });
  const counts = new Map<string, number>();
  let total = 0;
  for (const w of pairs.flatMap((p) => wordsOf(p.normal))) {
    for (const ch of w) {
      counts.set(ch, (counts.get(ch) ?? 0) + 1);
      total++;
    }
  }
  assert.deepEqual([...counts.keys()].sort().join(''), '0123456789abcdefghijklmnopqrstuvwxyz');
  const expected = total / 36;
  let chi2 = 0;
  for (const c of counts.values()) chi2 += (c - expected) ** 2 / expected;
  // df = 35: P(chi2 > 66.62) = 0.001.
  assert.ok(chi2 < 66.62, `chi2 ${chi2}`);
});

test('shared words: the anomaly prompt differs from the normal one only in the anomaly word', () => {
  for (const p of augmentedPairs({ n: 500, seed: 3 })) {
    assert.equal(p.anomaly, p.normal.replace(' a object ', ' a damaged object '));
    assert.deepEqual(wordsOf(p.normal), wordsOf(p.anomaly.replace(' damaged', '')));
  }
});

test('independent words: same normal prompts as shared mode, fresh anomaly words', () => {
  const shared = augmentedPairs({ n: 500, seed: 3 });
  const indep = augmentedPairs({ n: 500, seed: 3, independent: true });
  let differing = 0;
  for (let i = 0; i < 500; i++) {
    assert.equal(indep[i]!.normal, shared[i]!.normal);
    assert.match(indep[i]!.anomaly, /^\S+ a \S+ photo \S+ of \S+ a damaged object \S+$/);
    const wn = wordsOf(indep[i]!.normal);
    const wa = wordsOf(indep[i]!.anomaly.replace(' damaged', ''));
    for (let k = 0; k < 5; k++) if (wn[k] !== wa[k]) differing++;
  }
  // Two independent 5..10-character words coincide with probability < 36^-5.
  assert.equal(differing, 2500);
});

test('known object and custom normal/anomaly words go into the template', () => {
  const [p] = augmentedPairs({ n: 1, seed: 0, object: 'metal nut', normalWord: 'a flawless', anomalyWord: 'a broken' });
  assert.equal(p!.normal, 'o0fuh a 3zc7rxel photo pkpd6nl5 of 4s3hn2e8c3 a flawless metal nut cpx9j3');
  assert.equal(p!.anomaly, 'o0fuh a 3zc7rxel photo pkpd6nl5 of 4s3hn2e8c3 a broken metal nut cpx9j3');
});

test('empty words and disabled slots leave no double, leading or trailing spaces', () => {
  const pairs = augmentedPairs({ n: 2000, seed: 5, alphabet: 'xyz', minLength: 0, maxLength: 2 });
  const lengths = new Set<number>();
  let withEmpty = 0;
  for (const p of pairs) {
    for (const s of [p.normal, p.anomaly]) {
      assert.ok(!s.includes('  ') && s === s.trim(), JSON.stringify(s));
      assert.match(s, /^([xyz]+ )?a ([xyz]+ )?photo ([xyz]+ )?of ([xyz]+ )?a (damaged )?object( [xyz]+)?$/);
    }
    const t = p.normal.split(' ');
    if (t.length < 10) withEmpty++;
    for (const w of t) if (/^[xyz]+$/.test(w)) lengths.add(w.length);
  }
  assert.ok(withEmpty > 1000, `only ${withEmpty} prompts had an empty word`);
  assert.deepEqual([...lengths].sort(), [1, 2]);

  const [q] = augmentedPairs({ n: 1, seed: 0, slots: [false, true, true, true, false] });
  assert.match(q!.normal, /^a \S+ photo \S+ of \S+ a object$/);
  const [r] = augmentedPairs({ n: 1, seed: 0, slots: [false, false, false, false, false] });
  assert.deepEqual(r, promptPair());
});

test('fillTemplate and joinWords', () => {
  assert.equal(fillTemplate(['1', '2', '3', '4', '5'], 'a object'), '1 a 2 photo 3 of 4 a object 5');
  assert.equal(fillTemplate(['', '', 'w', '', ''], 'a damaged object'), 'a photo w of a damaged object');
  assert.throws(() => fillTemplate(['a'], 'x'), RwdaError);
  assert.equal(joinWords([' a ', '', 'b  c', '\t']), 'a b c');
});

test('randomWord: custom alphabet (code points) and length range', () => {
  const spec = wordSpec({ alphabet: 'äö😀', minLength: 3, maxLength: 3 });
  const rng = new Rng(9);
  const seen = new Set<string>();
  for (let i = 0; i < 300; i++) {
    const w = randomWord(rng, spec);
    const cps = Array.from(w);
    assert.equal(cps.length, 3);
    for (const c of cps) seen.add(c);
  }
  assert.deepEqual([...seen].sort(), ['ä', 'ö', '😀'].sort());
  const fixed = wordSpec({ minLength: 0, maxLength: 0 });
  assert.equal(randomWord(new Rng(1), fixed), '');
});

test('option validation raises RwdaError naming the field', () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ alphabet: '' }, /alphabet/],
    [{ alphabet: 'abca' }, /repeats/],
    [{ alphabet: 'ab c' }, /whitespace/],
    [{ minLength: -1 }, /minLength/],
    [{ maxLength: 2.5 }, /maxLength/],
    [{ minLength: 6, maxLength: 5 }, /minLength \(6\) must not exceed maxLength \(5\)/],
    [{ seed: -1 }, /seed/],
    [{ seed: 1.5 }, /seed/],
    [{ n: -1 }, /\bn\b/],
    [{ n: 2.5 }, /\bn\b/],
    [{ slots: [true, true] }, /slots/],
    [{ independent: 'yes' }, /independent/],
    [{ normalWord: 'a damaged' }, /normalWord and anomalyWord/],
  ];
  for (const [extra, re] of bad) {
    const opts = { n: 3, seed: 0, ...extra } as unknown as Parameters<typeof augmentedPairs>[0];
    assert.throws(
      () => augmentedPairs(opts),
      (e: unknown) => e instanceof RwdaError && re.test(e.message),
      JSON.stringify(extra),
    );
  }
  // The iterator validates eagerly, not at the first next().
  assert.throws(() => iterAugmentedPairs({ seed: 0, minLength: 9, maxLength: 1 }), RwdaError);
});

test('objects: pair i uses objects[i mod k] with the same random words as a single object name', () => {
  const objects = ['bottle', 'metal nut', 'screw'];
  const cycled = augmentedPairs({ n: 7, seed: 11, objects });
  const plain = augmentedPairs({ n: 7, seed: 11 });
  for (let i = 0; i < 7; i++) {
    const o = objects[i % 3]!;
    assert.equal(cycled[i]!.normal, plain[i]!.normal.replace(/ a object( |$)/u, ` a ${o}$1`), `pair ${i}`);
    assert.equal(cycled[i]!.anomaly, plain[i]!.anomaly.replace(/ a damaged object( |$)/u, ` a damaged ${o}$1`), `pair ${i}`);
  }
  // Independent words: the anomaly stream is untouched by the cycling too.
  const ci = augmentedPairs({ n: 4, seed: 3, objects: ['cable', 'pill'], independent: true });
  const pi = augmentedPairs({ n: 4, seed: 3, independent: true });
  assert.equal(ci[1]!.anomaly, pi[1]!.anomaly.replace('a damaged object', 'a damaged pill'));
  // One name behaves exactly like `object`; names are normalised like object names.
  assert.deepEqual(augmentedPairs({ n: 5, seed: 2, objects: ['metal nut'] }), augmentedPairs({ n: 5, seed: 2, object: 'metal nut' }));
  assert.deepEqual(augmentedPairs({ n: 3, seed: 2, objects: ['  metal   nut ', 'pill'] }), augmentedPairs({ n: 3, seed: 2, objects: ['metal nut', 'pill'] }));
});

test('objects: stored expectation for seed 0 (forever)', () => {
  assert.deepEqual(augmentedPairs({ n: 3, seed: 0, objects: ['bottle', 'metal nut'] }), [
    {
      normal: 'o0fuh a 3zc7rxel photo pkpd6nl5 of 4s3hn2e8c3 a bottle cpx9j3',
      anomaly: 'o0fuh a 3zc7rxel photo pkpd6nl5 of 4s3hn2e8c3 a damaged bottle cpx9j3',
    },
    {
      normal: 'p4kh0ukk9n a 4dnsn photo fht3qrs0k of 933w95gn a metal nut guteph70',
      anomaly: 'p4kh0ukk9n a 4dnsn photo fht3qrs0k of 933w95gn a damaged metal nut guteph70',
    },
    {
      normal: 'j3urmogdiu a kagvsm photo xyzb66fib of 11ctc9su a bottle enhdzo',
      anomaly: 'j3urmogdiu a kagvsm photo xyzb66fib of 11ctc9su a damaged bottle enhdzo',
    },
  ]);
});

test('objects: prefix-stable and deterministic', () => {
  const objects = ['a', 'b c', 'd', 'e'];
  const long = augmentedPairs({ n: 1000, seed: 9, objects });
  assert.deepEqual(augmentedPairs({ n: 13, seed: 9, objects }), long.slice(0, 13));
  assert.deepEqual(augmentedPairs({ n: 1000, seed: 9, objects }), long);
  const counts = new Map<string, number>();
  for (const p of long) {
    const m = / a (b c|[ade]) /u.exec(p.normal);
    assert.ok(m, p.normal);
    counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries(counts), { a: 250, 'b c': 250, d: 250, e: 250 });
});

test('objects: validation names the problem', () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ objects: [] }, /objects must be a non-empty array/],
    [{ objects: 'bottle' }, /objects must be a non-empty array/],
    [{ objects: ['bottle', ' '] }, /objects\[1\] must be a non-empty object name/],
    [{ objects: ['bottle', 3] }, /objects\[1\]/],
    [{ objects: ['metal nut', 'metal  nut'] }, /objects\[1\] repeats "metal nut"/],
    [{ objects: ['bottle'], object: 'bottle' }, /either object or objects/],
    [{ objects: ['bottle'], normalWord: 'a damaged' }, /normalWord and anomalyWord/],
  ];
  for (const [extra, re] of bad) {
    const opts = { n: 3, seed: 0, ...extra } as unknown as Parameters<typeof augmentedPairs>[0];
    assert.throws(() => augmentedPairs(opts), (e: unknown) => e instanceof RwdaError && re.test(e.message), JSON.stringify(extra));
  }
  assert.throws(() => iterAugmentedPairs({ seed: 0, objects: [] }), RwdaError);
});
