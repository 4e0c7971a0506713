// The CLI's exit codes (README, "Exit codes") and the one rule that maps an error onto them.
import { CommanderError } from 'commander';
import { BatchError, ModelNotFoundError, isBatchBudgetError, isImageBatchError, isInputError, isOptionError, isRunLevelError } from '../index.ts';

export const EXIT = {
  ok: 0,
  someFailed: 1,
  usage: 2,
  runStopped: 3,
  sigint: 130,
  sigterm: 143,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface ExitContext {
  /**
   * Work had started (requests sent, or batch jobs recorded in the folder): a failure now stops a run whose state is
   * saved (3) instead of being a usage problem with nothing sent (2). @default false
   */
  started?: boolean;
}

/** Commander's ways of saying "I printed what was asked" (help, version). */
const ANSWERED = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

/**
 * The exit code for an error that ended a command: help and version 0; bad flags, bad input, bad option values,
 * batch bookkeeping problems and a batch estimated over --max-cost 2; a run-level failure (key, model, quota, billing, budget) 3; any other failure of ours
 * 3 once work had started, else 2. Anything else (not one of our errors) is 2, reported as one line.
 */
export function exitCodeFor(error: unknown, context: ExitContext = {}): ExitCode {
  if (error instanceof CommanderError) return ANSWERED.has(error.code) ? EXIT.ok : EXIT.usage;
  if (isInputError(error) || isOptionError(error) || error instanceof BatchError || isBatchBudgetError(error)) return EXIT.usage;
  // A model that answers 404 before anything was sent (preflight) is a usage problem: nothing was paid.
  if (error instanceof ModelNotFoundError && !context.started) return EXIT.usage;
  if (isRunLevelError(error)) return EXIT.runStopped;
  if (isImageBatchError(error) && context.started) return EXIT.runStopped;
  return EXIT.usage;
}
