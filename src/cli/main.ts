import { Command, CommanderError, Option } from 'commander';
import { isStagecoachError } from '../errors.js';
import type { CliIo } from './io.js';
import { exitCodes, processIo } from './io.js';
import { applyCommand } from './apply.js';
import { planCommand } from './plan.js';
import { validateCommand } from './validate.js';

/** Commands of DESIGN.md that later milestones build; they say so instead of pretending. */
const planned = {
  run: 'watch the config repo and keep every environment in sync (the daemon)',
  verify: "run an environment's tests against what runs",
  status: 'show the state of every environment (reads the daemon API)',
  history: 'list deploys and promotion markers of an environment from git',
  promote: 'propose the images verified in one environment for the next',
  rollback: "commit an environment's manifests as of an earlier revision",
} as const;

function notYet(name: string, io: CliIo): number {
  io.err(`stagecoach ${name}: not yet available in this version (see README.md, "Status")`);
  return exitCodes.error;
}

/** Parses argv and runs one command; resolves to the process exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let code: number = exitCodes.ok;
  const program = new Command('stagecoach')
    .description('GitOps delivery for Docker hosts: deploys what git says, tests it, promotes only what was proven.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showSuggestionAfterError(true);

  program
    .command('validate')
    .description('check every manifest of the config repo (exit 0 valid, 1 invalid, 2 error)')
    .option('--repo <dir>', 'config repo folder', '.')
    .option('--json', 'print the result as JSON')
    .action(async (options: { repo: string; json?: boolean }) => {
      code = await validateCommand(options, io);
    });

  program
    .command('plan')
    .description('show what apply would change in an environment (exit 0 in sync, 1 changes pending, 2 error)')
    .requiredOption('--env <name>', 'environment')
    .option('--repo <dir>', 'config repo folder', '.')
    .option('--json', 'print the plan as JSON')
    .action(async (options: { env: string; repo: string; json?: boolean }) => {
      code = await planCommand(options, io);
    });

  program
    .command('apply')
    .description('make an environment match its manifests, rolling back failed updates (exit 0 converged, 1 failed, 2 error)')
    .requiredOption('--env <name>', 'environment')
    .option('--repo <dir>', 'config repo folder', '.')
    .action(async (options: { env: string; repo: string }) => {
      code = await applyCommand(options, io);
    });

  for (const [name, description] of Object.entries(planned)) {
    const command = program.command(name).description(`${description} (not yet available)`).allowUnknownOption().allowExcessArguments();
    command.addOption(new Option('--repo <dir>', 'config repo').hideHelp());
    command.action(() => {
      code = notYet(name, io);
    });
  }

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.error;
    }
    if (isStagecoachError(error)) {
      io.err(`stagecoach: ${error.message}`);
      return exitCodes.error;
    }
    io.err(`stagecoach: unexpected error: ${(error as Error).stack ?? String(error)}`);
    return exitCodes.error;
  }
}
