// The one numeric option check: library options, batch options, the client's timeout and the CLI's flag parsers
// all state their rule here, so the same rule reads the same way in every error ("a whole number ≥ 1").
import { OptionError } from '../errors.ts';

export interface NumberRule {
  /** Whole (safe-integer) numbers only. @default false */
  integer?: boolean;
  /** Smallest value allowed (inclusive). @default none */
  min?: number;
  /** Values must be greater than this (exclusive). @default none */
  above?: number;
  /** Largest value allowed (inclusive). @default none */
  max?: number;
  /** What the number counts, named in the message ("milliseconds"). @default none */
  unit?: string;
}

/** The rule as the message's "expected …" text: "a whole number ≥ 1", "a number of milliseconds in (0, 10]". */
export function describeRule(rule: NumberRule): string {
  const what = `${rule.integer ? 'a whole number' : 'a number'}${rule.unit ? ` of ${rule.unit}` : ''}`;
  const low = rule.above !== undefined ? `(${rule.above}` : rule.min !== undefined ? `[${rule.min}` : undefined;
  if (low !== undefined && rule.max !== undefined) return `${what} in ${low}, ${rule.max}]`;
  if (rule.above !== undefined) return `${what} > ${rule.above}`;
  if (rule.min !== undefined) return `${what} ≥ ${rule.min}`;
  if (rule.max !== undefined) return `${what} ≤ ${rule.max}`;
  return what;
}

/** Whether `v` is a number that follows the rule (NaN and ±Infinity never do). */
export function followsRule(v: unknown, rule: NumberRule): v is number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  if (rule.integer && !Number.isSafeInteger(v)) return false;
  if (rule.min !== undefined && v < rule.min) return false;
  if (rule.above !== undefined && v <= rule.above) return false;
  return rule.max === undefined || v <= rule.max;
}

/** `v` when it follows the rule; otherwise an OptionError naming the option, the value and the rule. */
export function checkNumber(name: string, v: unknown, rule: NumberRule): number {
  if (!followsRule(v, rule)) throw new OptionError(name, v, describeRule(rule));
  return v;
}

/** checkNumber for an optional option: `fallback` when it is undefined. */
export function optionalNumber<T extends number | undefined>(name: string, v: unknown, rule: NumberRule, fallback: T): number | T {
  return v === undefined ? fallback : checkNumber(name, v, rule);
}
