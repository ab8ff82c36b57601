import { access } from 'node:fs/promises';
import path from 'node:path';
import { diskRepo } from '../manifest/files.js';
import { environmentsDir, loadRepo } from '../manifest/load.js';
import { formatProblem } from '../manifest/problem.js';
import { compileSchemas } from '../manifest/schemas.js';
import type { CliIo } from './io.js';
import { exitCodes } from './io.js';

export interface ValidateOptions {
  repo?: string;
  json?: boolean;
}

/** `stagecoach validate`: 0 valid, 1 invalid (every problem listed), 2 cannot read the repo. */
export async function validateCommand(options: ValidateOptions, io: CliIo): Promise<number> {
  const repo = path.resolve(io.cwd, options.repo ?? '.');
  const hasEnvironments = await access(path.join(repo, environmentsDir)).then(() => true, () => false);
  if (!hasEnvironments) {
    const exists = await access(repo).then(() => true, () => false);
    io.err(
      exists
        ? `stagecoach validate: ${repo} has no ${environmentsDir}/ folder; is --repo pointing at a config repo?`
        : `stagecoach validate: config repo ${repo} does not exist`,
    );
    return exitCodes.error;
  }
  const result = await loadRepo(diskRepo(repo), compileSchemas());
  const valid = result.problems.length === 0;
  if (options.json) {
    io.out(
      JSON.stringify(
        {
          valid,
          environments: result.environments.map((e) => ({
            name: e.name,
            valid: e.problems.length === 0,
            services: e.loaded?.services.map((s) => ({ name: s.name, image: s.spec.image, replicas: s.replicas, specHash: s.specHash })) ?? [],
          })),
          problems: result.problems.map((p) => ({ ...p, text: formatProblem(p) })),
        },
        null,
        2,
      ),
    );
    return valid ? exitCodes.ok : exitCodes.failed;
  }
  const names = result.environments.map((e) => e.name).join(', ');
  if (valid) {
    const services = result.environments.reduce((n, e) => n + (e.loaded?.services.length ?? 0), 0);
    io.out(`ok: ${result.environments.length} environments valid (${names}), ${services} services`);
    return exitCodes.ok;
  }
  for (const problem of result.problems) io.out(formatProblem(problem));
  const bad = result.environments.filter((e) => e.problems.length > 0).length;
  const count = result.problems.length;
  io.out(`\n${count} problem${count === 1 ? '' : 's'} in ${bad} of ${result.environments.length} environments`);
  return exitCodes.failed;
}
