import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommanderError } from 'commander';
import { exitCodeFor } from '../../src/cli/exit.ts';
import { AuthError, BatchBudgetError, BatchError, BudgetExceededError, InputError, OptionError, StorageError } from '../../src/errors.ts';

test('exitCodeFor: the one rule behind the documented exit codes', () => {
  const input = new InputError([{ file: 'p.txt', line: 3, field: 'prompt', message: 'empty' }]);
  const cases: [unknown, { started?: boolean }, number][] = [
    [new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), {}, 0],
    [new CommanderError(0, 'commander.version', '0.1.0'), {}, 0],
    [new CommanderError(1, 'commander.unknownOption', "error: unknown option '--nope'"), {}, 2],
    [input, { started: true }, 2],
    [new OptionError('aspectRatio', '99:1', 'a ratio'), { started: true }, 2],
    [new BatchError('batches/x', 'no such batch'), { started: true }, 2],
    [new BatchBudgetError(2, 1, 100), { started: true }, 2],
    [new AuthError('API key not valid'), {}, 3],
    [new BudgetExceededError(1, 0.5), {}, 3],
    // A disk failure: nothing sent yet is a usage problem (an unusable --out); after requests went out it stops a run.
    [new StorageError('out', 'disk full'), {}, 2],
    [new StorageError('out', 'disk full'), { started: true }, 3],
    [new Error('not ours'), { started: true }, 2],
  ];
  for (const [error, context, code] of cases) assert.equal(exitCodeFor(error, context), code, `${(error as Error).constructor.name} ${JSON.stringify(context)}`);
});
