// The batch fetch's write window: bounded by count and by the decoded bytes in flight; one write always goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteWindow } from '../../src/batch/write-window.ts';

test('small answers go up to the count limit', () => {
  const w = new WriteWindow(3, 1000);
  for (let i = 0; i < 3; i++) {
    assert.equal(w.canStart(10), true);
    w.start(10);
  }
  assert.equal(w.canStart(10), false, 'the fourth waits');
  w.end(10);
  assert.equal(w.canStart(10), true);
});

test('large answers go while their bytes fit the budget', () => {
  const w = new WriteWindow(64, 100);
  w.start(60);
  assert.equal(w.canStart(50), false, '60 + 50 is over 100');
  assert.equal(w.canStart(40), true);
  w.start(40);
  assert.equal(w.canStart(1), false);
  w.end(60);
  assert.equal(w.canStart(60), true);
});

test('an answer larger than the budget still goes, alone', () => {
  const w = new WriteWindow(64, 100);
  assert.equal(w.canStart(500), true);
  w.start(500);
  assert.equal(w.canStart(1), false, 'nothing joins it');
  w.end(500);
  assert.equal(w.canStart(1), true);
});
