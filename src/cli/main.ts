import { Command, CommanderError, Option } from 'commander';
import { isStagecoachError } from '../errors.js';
import type { CliIo } from './io.js';
import { exitCodes, processIo } from './io.js';
import { applyCommand } from './apply.js';
import { planCommand } from './plan.js';
import { runCommand } from './run.js';
import { statusCommand } from './status.js';
import { validateCommand } from './validate.js';

/** Commands of DESIGN.md that later milestones build; they say so instead of pretending. */
const planned = {
  verify: "run an environment's tests against what runs",
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

  program
    .command('run')
    .description('the daemon: follow the config repo and keep every environment in sync (default: the bundled example)')
    .option('--repo <url|path>', 'config repo: https://, ssh://, git://, file:// URL or a local path (default: the bundled example)')
    .option('--branch <name>', 'branch to follow (default main)')
    .option('--env <a,b>', 'environments to manage (default all)')
    .option('--interval <duration>', 'how often to ask the remote whether the branch moved (default 30s)')
    .option('--listen <host:port>', 'HTTP address for status, metrics, API and webhooks (default 127.0.0.1:7420)')
    .option('--data <dir>', 'data directory (default ./.stagecoach or $STAGECOACH_DATA)')
    .option('--config <file>', 'settings file (YAML, see schemas/settings.schema.json)')
    .action(async (options: Record<string, string>) => {
      code = await runCommand(options, io);
    });

  program
    .command('status')
    .description("show every environment's state from the daemon's API (exit 0 all in sync, 1 not, 2 unreachable)")
    .option('--json', 'print the raw API answer')
    .option('--url <url>', 'daemon address (default http://$STAGECOACH_LISTEN or http://127.0.0.1:7420)')
    .action(async (options: { json?: boolean; url?: string }) => {
      code = await statusCommand(options, io);
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
