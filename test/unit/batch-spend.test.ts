// The spend of fetched batch answers against --max-cost: passing the cap is said once, and an answer whose price is
// unknown is said once and left out of the total (never counted as $0 without a word).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SpendMeter } from '../../src/batch/budget.ts';

describe('SpendMeter', () => {
  test('warns once when the total passes the cap, and not at all without a cap', () => {
    const m = new SpendMeter();
    assert.equal(m.add(0.4, 1), undefined);
    assert.equal(m.add(0.4, 1), undefined);
    assert.match(m.add(0.4, 1) ?? '', /cost \$1\.2000, over --max-cost \$1\.0000/);
    assert.equal(m.add(0.4, 1), undefined, 'said once');
    assert.equal(m.usd.toFixed(2), '1.60');
    const free = new SpendMeter();
    assert.equal(free.add(5, undefined), undefined);
  });

  test('an unknown price under a cap is said once, counted apart, and never added as $0', () => {
    const m = new SpendMeter();
    assert.match(m.add(undefined, 1) ?? '', /no known price.*--price-per-image/);
    assert.equal(m.add(undefined, 1), undefined, 'said once');
    assert.equal(m.unpriced, 2);
    assert.equal(m.usd, 0);
    assert.match(m.add(1.5, 1) ?? '', /over --max-cost/, 'the cap warning is its own');
    const uncapped = new SpendMeter();
    assert.equal(uncapped.add(undefined, undefined), undefined, 'no cap, nothing to warn about');
    assert.equal(uncapped.unpriced, 1);
  });
});
