import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkNumber, describeRule, followsRule, optionalNumber } from '../../src/internal/check.ts';
import { OptionError } from '../../src/errors.ts';
import { int, nonNegative, positive } from '../../src/cli/flags.ts';

test('one numeric rule, one wording: library options, batch options, timeouts and CLI flags', () => {
  assert.equal(describeRule({ integer: true, min: 1 }), 'a whole number ≥ 1');
  assert.equal(describeRule({ above: 0 }), 'a number > 0');
  assert.equal(describeRule({ min: 0, unit: 'milliseconds' }), 'a number of milliseconds ≥ 0');
  assert.equal(describeRule({ above: 0, max: 10, unit: 'milliseconds' }), 'a number of milliseconds in (0, 10]');
  assert.equal(describeRule({ integer: true, min: 1, max: 9 }), 'a whole number in [1, 9]');
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '3', undefined, null, 1.5, 0, 2 ** 53]) assert.ok(!followsRule(bad, { integer: true, min: 1 }), String(bad));
  assert.ok(followsRule(7, { integer: true, min: 1, max: 7 }));
  assert.ok(!followsRule(0, { above: 0 }));
  assert.throws(
    () => checkNumber('concurrency', 0, { integer: true, min: 1 }),
    (e: unknown) => e instanceof OptionError && e.option === 'concurrency' && e.message === 'option concurrency: expected a whole number ≥ 1, got 0',
  );
  assert.equal(optionalNumber('x', undefined, { min: 0 }, 5), 5);
  assert.equal(optionalNumber('x', 2, { min: 0 }, 5), 2);
  // The CLI parsers say the same, naming the value as typed.
  assert.equal(int(2)('3'), 3);
  assert.throws(() => int(2)('1'), /expected a whole number ≥ 2, got "1"/);
  assert.throws(() => positive('0'), /expected a number > 0, got "0"/);
  assert.throws(() => nonNegative('-1'), /expected a number ≥ 0, got "-1"/);
  assert.equal(positive('2.5'), 2.5);
});
