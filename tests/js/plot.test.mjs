// The chart helpers' pure part: whether a chart already shows a data set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sameData, inTurns } from '../../web/assets/plot.js';

test('data sets compare by value, column by column', () => {
  const a = [[1, 2, 3], [0.5, null, 0.7]];
  assert.ok(sameData(a, [[1, 2, 3], [0.5, null, 0.7]]));
  assert.ok(sameData(a, a));
  assert.ok(sameData([[1], [NaN]], [[1], [NaN]]), 'NaN is NaN here');
  assert.ok(!sameData(a, [[1, 2, 3], [0.5, 0.6, 0.7]]), 'a gap filled');
  assert.ok(!sameData(a, [[1, 2], [0.5, null]]), 'a shorter column');
  assert.ok(!sameData(a, [[1, 2, 3]]), 'a column fewer');
  assert.ok(!sameData(null, a));
  assert.ok(!sameData(a, undefined));
});

test('chart draws run one per task, a newer set replacing what has not run', async () => {
  const owner = {};
  const ran = [];
  const first = inTurns(owner, [() => ran.push('a1'), () => ran.push('a2'), () => ran.push('a3')]);
  assert.deepEqual(ran, [], 'nothing in the caller\'s task');
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(ran, ['a1'], 'one step per task');
  const second = inTurns(owner, [() => ran.push('b1'), () => ran.push('b2')]);
  assert.equal(second, first, 'one run, its steps replaced');
  await second;
  assert.deepEqual(ran, ['a1', 'b1', 'b2']);
  assert.equal(owner.turning, null);
});
