import { Command, CommanderError } from 'commander';
import { isStagecoachError } from '../errors.js';
import type { CliIo } from './io.js';
import { exitCodes, processIo } from './io.js';

// Each command's module is loaded when that command runs: `plan` does not pay
// for the daemon's HTTP server, metrics, file watcher and scheduler at start.

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
      code = await (await import('./validate.js')).validateCommand(options, io);
    });

  program
    .command('import-compose')
    .description('write manifests for an environment from a compose file (exit 0 all carried, 1 some fields left out, 2 error)')
    .argument('<file>', 'compose file')
    .requiredOption('--env <name>', 'environment to write')
    .option('--out <dir>', 'config repo folder to write into', '.')
    .action(async (file: string, options: { env: string; out: string }) => {
      code = await (await import('./import-compose.js')).importComposeCommand(file, options, io);
    });

  program
    .command('plan')
    .description('show what apply would change in an environment (exit 0 in sync, 1 changes pending, 2 error)')
    .requiredOption('--env <name>', 'environment')
    .option('--policy <file>', 'operator policy file (YAML; default $STAGECOACH_POLICY, else the built-in defaults)')
    .option('--repo <dir>', 'config repo folder', '.')
    .option('--json', 'print the plan as JSON')
    .action(async (options: { env: string; repo: string; policy?: string; json?: boolean }) => {
      code = await (await import('./plan.js')).planCommand(options, io);
    });

  program
    .command('apply')
    .description('make an environment match its manifests, rolling back failed updates (exit 0 converged, 1 failed, 2 error)')
    .requiredOption('--env <name>', 'environment')
    .option('--policy <file>', 'operator policy file (YAML; default $STAGECOACH_POLICY, else the built-in defaults)')
    .option('--repo <dir>', 'config repo folder', '.')
    .action(async (options: { env: string; repo: string; policy?: string }) => {
      code = await (await import('./apply.js')).applyCommand(options, io);
    });

  program
    .command('run')
    .description('the daemon: follow the config repo and keep every environment in sync (default: the bundled example)')
    .option('--repo <url|path>', 'config repo: https://, ssh://, git://, file:// URL or a local path (default: the bundled example)')
    .option('--branch <name>', 'branch to follow (default main)')
    .option('--env <a,b>', 'environments to manage (default all)')
    .option('--interval <duration>', 'how often to ask the remote whether the branch moved (default 30s)')
    .option('--resync <duration>', "the periodic drift check lists each environment at least this often; in between the engine's events may vouch for it (default 5m; 0s: always list)")
    .option('--listen <host:port>', 'HTTP address for status, metrics, API and webhooks (default 127.0.0.1:7420)')
    .option('--data <dir>', 'data directory (default ./.stagecoach or $STAGECOACH_DATA)')
    .option('--config <file>', 'settings file (YAML, see schemas/settings.schema.json)')
    .option('--policy <file>', 'operator policy file (YAML, the shape of the settings policy:); replaces the settings file policy')
    .action(async (options: Record<string, string>) => {
      code = await (await import('./run.js')).runCommand(options, io);
    });

  program
    .command('status')
    .description("show every environment's state from the daemon's API (exit 0 all in sync, 1 not, 2 unreachable)")
    .option('--json', 'print the raw API answer')
    .option('--url <url>', 'daemon address (default http://$STAGECOACH_LISTEN or http://127.0.0.1:7420)')
    .action(async (options: { json?: boolean; url?: string }) => {
      code = await (await import('./status.js')).statusCommand(options, io);
    });

  program
    .command('verify')
    .description("run an environment's tests against what runs now (exit 0 all passed, 1 failed, 2 error); writes no marker")
    .requiredOption('--env <name>', 'environment')
    .option('--policy <file>', 'operator policy file (YAML; default $STAGECOACH_POLICY, else the built-in defaults)')
    .option('--repo <dir>', 'config repo folder', '.')
    .option('--json', 'print the results as JSON')
    .action(async (options: { env: string; repo: string; policy?: string; json?: boolean }) => {
      code = await (await import('./verify.js')).verifyCommand(options, io);
    });

  program
    .command('history')
    .description('deploys, promotions, rollbacks and markers of an environment, from git')
    .requiredOption('--env <name>', 'environment')
    .option('--repo <dir>', 'a clone of the config repo', '.')
    .option('--limit <n>', 'how many entries', '50')
    .option('--json', 'print as JSON')
    .action(async (options: { env: string; repo: string; json?: boolean; limit: string }) => {
      code = await (await import('./git-commands.js')).historyCommand(options, io);
    });

  program
    .command('promote')
    .description("propose environment B the images A's latest passing marker verified: a branch stagecoach/promote/B to merge")
    .requiredOption('--from <env>', 'the verified environment')
    .requiredOption('--to <env>', 'the environment to promote to')
    .option('--repo <dir>', 'a clone of the config repo', '.')
    .option('--branch <name>', 'the branch the daemon follows (default: the current one)')
    .option('--commit', 'commit to the branch directly instead of proposing')
    .action(async (options: { from: string; to: string; repo: string; branch?: string; commit?: boolean }) => {
      code = await (await import('./git-commands.js')).promoteCommand(options, io);
    });

  program
    .command('rollback')
    .description("a new commit restoring an environment's manifests as of REV (pushed when the clone has an origin)")
    .requiredOption('--env <name>', 'environment')
    .requiredOption('--to <rev>', 'the revision to restore')
    .option('--reason <text>', 'why (goes into the commit message)', 'manual rollback')
    .option('--repo <dir>', 'a clone of the config repo', '.')
    .action(async (options: { env: string; to: string; reason: string; repo: string }) => {
      code = await (await import('./git-commands.js')).rollbackCommand(options, io);
    });

  program
    .command('set-image')
    .description('for CI: commit SERVICE=IMAGE to an environment (only the image: lines), validated, pushed with retry (exit 0 done, 1 refused, 2 error)')
    .argument('<assignments...>', 'SERVICE=IMAGE, e.g. web=registry.example.com/shop/web:1.5.0')
    .requiredOption('--env <name>', 'environment')
    .option('--repo <dir>', 'a clone of the config repo with an origin', '.')
    .option('--branch <name>', 'the branch to commit to (default: the current one, or origin\'s default on a detached HEAD)')
    .option('--allow-downgrade', 'allow a lower semver tag than the one the manifest names')
    .action(async (assignments: string[], options: { env: string; repo: string; branch?: string; allowDowngrade?: boolean }) => {
      code = await (await import('./set-image.js')).setImageCommand(assignments, options, io);
    });

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
