// Flag value parsers shared by the subcommands: a bad value is a usage error (exit 2) that names the flag's value.
import { InvalidArgumentError } from 'commander';

export function int(min = 1): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number ≥ ${min}, got "${value}"`);
    return n;
  };
}

export function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number > 0, got "${value}"`);
  return n;
}

export function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number ≥ 0, got "${value}"`);
  return n;
}

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
