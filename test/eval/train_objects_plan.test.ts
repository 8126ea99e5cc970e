// The eval plan's trainObjects: validation, binding to the dataset's names, the run key, and its record in results.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RwdaError } from '../../src/errors.ts';
import { configLines } from '../../src/eval/report/format.ts';
import { validateRunResults, type RunResults } from '../../src/eval/report/index.ts';
import { bindTrainObjects, planEval, runKey } from '../../src/eval/runner/index.ts';
import { makeResults } from './report_fixture.ts';

const items = [
  { promptName: 'screw' },
  { promptName: 'metal nut' },
  { promptName: 'screw' },
  { promptName: 'bottle' },
  { promptName: 'metal  nut' },
];

test("trainObjects 'categories': the distinct prompt names, sorted, go into every seed's training options and the settings", () => {
  const plan = planEval({ seeds: 2, setup: 'known', trainObjects: 'categories', train: { pairs: 50 } });
  assert.equal(plan.trainObjects, 'categories');
  const bound = bindTrainObjects(plan, items);
  assert.deepEqual(bound.train.prompts.objects, ['bottle', 'metal nut', 'screw']);
  assert.deepEqual(bound.trainOptions(1), { pairs: 50, trainObjects: ['bottle', 'metal nut', 'screw'], seed: 1 });
  // Loader order does not matter.
  assert.deepEqual(bindTrainObjects(plan, [...items].reverse()).train, bound.train);
  assert.throws(() => bindTrainObjects(plan, []), (e: unknown) => e instanceof RwdaError && /no object names/.test(e.message));
});

test("trainObjects 'object' (default): the plan is unchanged by binding and no object names are anywhere", () => {
  const plan = planEval({ seeds: 2, setup: 'known', train: { pairs: 50 } });
  assert.equal(plan.trainObjects, 'object');
  assert.equal(bindTrainObjects(plan, items), plan);
  assert.equal('objects' in plan.train.prompts, false);
  assert.deepEqual(plan.trainOptions(1), { pairs: 50, seed: 1 });
});

test('the run key includes the training object names; an unbound categories plan is refused', () => {
  const known = planEval({ setup: 'known', train: { pairs: 50 } });
  const cats = planEval({ setup: 'known', trainObjects: 'categories', train: { pairs: 50 } });
  const unbound = (e: unknown): boolean => e instanceof RwdaError && /not bound to the dataset/.test(e.message);
  assert.throws(() => runKey(cats, 'fp', 'data'), unbound);
  assert.throws(() => cats.trainOptions(0), unbound);
  const k1 = runKey(bindTrainObjects(cats, items), 'fp', 'data');
  const k2 = runKey(bindTrainObjects(cats, items.slice(0, 2)), 'fp', 'data');
  assert.equal(new Set([runKey(known, 'fp', 'data'), k1, k2]).size, 3);
});

test('planEval refuses a bad trainObjects, categories without the known setup, and train.trainObjects', () => {
  const cases: Array<[Parameters<typeof planEval>[0], RegExp]> = [
    [{ setup: 'known', trainObjects: 'names' as never }, /trainObjects must be 'object' or 'categories'/],
    [{ setup: 'unknown', trainObjects: 'categories' }, /needs setup 'known'/],
    [{ trainObjects: 'categories' }, /needs setup 'known'/],
    [{ setup: 'known', train: { trainObjects: ['a'] } as never }, /train\.trainObjects is not an evaluation option/],
  ];
  for (const [opts, re] of cases) assert.throws(() => planEval(opts), (e: unknown) => e instanceof RwdaError && re.test(e.message), JSON.stringify(opts));
});

test('results.json: config.prompts.trainObjects must be a list of names; the reports show it', () => {
  const r = makeResults();
  assert.ok(r.config.prompts, 'the fixture has prompt settings');
  const withNames: RunResults = { ...r, config: { ...r.config, setup: 'known', prompts: { ...r.config.prompts!, trainObjects: ['bottle', 'cable'] } } };
  assert.equal(validateRunResults(withNames), withNames);
  const lines = Object.fromEntries(configLines(withNames));
  assert.equal(lines['detector training objects'], '2 (cycled over the pairs): bottle, cable');
  assert.match(lines.setup!, /known object names \(the detector is trained on them too\)/);
  assert.equal(Object.fromEntries(configLines(r))['detector training objects'], undefined);
  for (const [bad, re] of [
    ['bottle', /config\.prompts\.trainObjects must be an array/],
    [['bottle', 3], /config\.prompts\.trainObjects\[1\] must be a string/],
  ] as const) {
    const x = { ...r, config: { ...r.config, prompts: { ...r.config.prompts!, trainObjects: bad as never } } };
    assert.throws(() => validateRunResults(x), (e: unknown) => e instanceof RwdaError && re.test(e.message), re.source);
  }
});
