// The command line: thin, it maps flags onto the public API. Exit codes:
// 0 all succeeded · 1 some jobs failed · 2 usage or input error (nothing sent) · 3 run stopped by a run-level failure
// · 130 / 143 stopped by SIGINT / SIGTERM.
import { Command, CommanderError } from 'commander';
import { addBatchCommands } from './batch.ts';
import { addEmulatorCommand } from './emulator.ts';
import { addGenerateCommand } from './generate.ts';
import { addModelsCommand } from './models.ts';
import { addQuotaCommand } from './quota.ts';
import { addReportCommand } from './report.ts';
import { cliMessage } from './conflicts.ts';
import { EXIT, exitCodeFor } from './exit.ts';
import { VERSION } from '../internal/version.ts';
import { quietOnClosedStdio } from './closed-pipe.ts';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('imagebatch')
    .description('Turn a list of prompts into a folder of images with Gemini image models, as fast as your quota allows.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  addGenerateCommand(program);
  addModelsCommand(program);
  addReportCommand(program);
  addEmulatorCommand(program);
  addBatchCommands(program);
  addQuotaCommand(program);
  program.addHelpText(
    'after',
    `
Exit codes: 0 all succeeded, 1 some jobs failed, 2 usage or input error (nothing sent),
            3 stopped by a run-level failure (bad key, daily quota, unknown model, budget), 130 Ctrl-C, 143 SIGTERM.
Environment: GEMINI_API_KEY (or GOOGLE_API_KEY), GEMINI_BASE_URL, IMAGEBATCH_CACHE_DIR, IMAGEBATCH_SHARED_QUOTA, NO_COLOR.`,
  );
  return program;
}

export async function main(argv: string[]): Promise<number> {
  quietOnClosedStdio();
  const program = buildProgram();
  // Bare `imagebatch` (or `imagebatch batch`) asks what there is: help on stdout, exit 0 (commander would print it
  // to stderr as an error).
  const bare = argv.length === 0 ? program : argv.length === 1 ? program.commands.find((c) => c.name() === argv[0] && c.commands.length > 0) : undefined;
  if (bare) {
    bare.outputHelp();
    return EXIT.ok;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    // Commander has already printed its own message (help, version, a bad flag).
    if (err instanceof CommanderError) return exitCodeFor(err);
    // A bad option value found past flag parsing (OptionError), an unusable --out (StorageError), ...: one line, not a
    // stack trace, and the same exit code whether we run from bin/imagebatch.js or as src/cli/main.ts.
    process.stderr.write(`imagebatch: ${cliMessage(err)}\n`);
    return exitCodeFor(err);
  }
}

// Run directly (`node --import tsx src/cli/main.ts`, as `npm run demo` does, or `node dist/cli/main.js` after a
// build); bin/imagebatch.js calls main() itself.
const isEntry = process.argv[1] !== undefined && /cli[\\/]main\.[jt]s$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`imagebatch: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = EXIT.usage;
    },
  );
}
