// Flag value parsers shared by the subcommands: a bad value is a usage error (exit 2) that names the flag's value.
import { InvalidArgumentError } from 'commander';
import { describeRule, followsRule } from '../internal/check.ts';
import type { NumberRule } from '../internal/check.ts';

/** A flag parser for numbers under the shared rule (internal/check.ts): the message names the rule and the value. */
function numberFlag(rule: NumberRule): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!followsRule(n, rule)) throw new InvalidArgumentError(`expected ${describeRule(rule)}, got "${value}"`);
    return n;
  };
}

export function int(min = 1): (value: string) => number {
  return numberFlag({ integer: true, min });
}

export const positive = numberFlag({ above: 0 });

export const nonNegative = numberFlag({ min: 0 });

export function oneOf<T extends string>(...allowed: T[]): (value: string) => T {
  return (value) => {
    if (!(allowed as string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}, got "${value}"`);
    return value as T;
  };
}

/** The " (default: …)" tail of a flag's help, from src/defaults.ts: the CLI leaves defaults to the library. */
export const dflt = (value: unknown): string => ` (default: ${String(value)})`;

/** Seconds on the command line, milliseconds in the library. */
export const secondsToMs = (s: number | undefined): number | undefined => (s === undefined ? undefined : Math.round(s * 1000));
