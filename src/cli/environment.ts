import { access } from 'node:fs/promises';
import path from 'node:path';
import { commandPolicy } from '../config/policy.js';
import { UsageError } from '../errors.js';
import type { Problem } from '../manifest/problem.js';
import { hostPolicyProblems } from '../policy/host-policy.js';
import { diskRepo } from '../manifest/files.js';
import { environmentsDir, loadRepo } from '../manifest/load.js';
import { formatProblem } from '../manifest/problem.js';
import { compileSchemas } from '../manifest/schemas.js';
import type { LoadedEnvironment } from '../manifest/types.js';
import { processCredentialHelper } from '../registry/helper-process.js';
import { dockerClientFor, dockerConfigPath, DockerRuntime } from '../runtime/docker-runtime.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { DockerSwarm } from '../swarm/docker-swarm.js';
import type { SwarmPort } from '../swarm/types.js';
import { localRevision } from '../git/local-revision.js';
import type { CliIo } from './io.js';

export interface CommandTarget {
  repo: string;
  environment: LoadedEnvironment;
  revision: string;
  runtime: ContainerRuntime;
  /** Set when the environment's target is a Swarm (target.mode: swarm): its services are Swarm services. */
  swarm?: SwarmPort;
}

/**
 * Loads one environment of a config repo checkout for plan/apply/verify. An
 * invalid manifest is a UsageError carrying every validate message: nothing
 * is touched.
 */
export async function loadTarget(options: { repo?: string; env?: string; policy?: string }, io: CliIo): Promise<CommandTarget> {
  if (!options.env) throw new UsageError('--env NAME is required');
  const repo = path.resolve(io.cwd, options.repo ?? '.');
  const ok = await access(path.join(repo, environmentsDir)).then(() => true, () => false);
  if (!ok) throw new UsageError(`${repo} has no ${environmentsDir}/ folder; is --repo pointing at a config repo?`);
  // git runs in its own processes: ask it now, while this one reads the manifests.
  const revision = localRevision(repo);
  const validators = compileSchemas();
  const policyProblems: Problem[] = [];
  const policy = commandPolicy(options.policy ?? io.env.STAGECOACH_POLICY, io.cwd, validators, policyProblems);
  if (policyProblems.length > 0) throw new UsageError(`invalid operator policy:\n${policyProblems.map(formatProblem).join('\n')}`);
  const result = await loadRepo(diskRepo(repo), validators, [options.env]);
  const load = result.environments.find((e) => e.name === options.env);
  if (!load?.loaded || result.problems.length > 0) {
    throw new UsageError(`${options.env} is not valid; nothing was changed:\n${result.problems.map(formatProblem).join('\n')}`);
  }
  const environment = load.loaded;
  // The operator's policy, checked before any engine is contacted: a refused endpoint never sees a secret.
  const refused = await hostPolicyProblems(policy, environment);
  if (refused.length > 0) throw new UsageError(`${options.env} is refused by the operator policy (${policy.source}); nothing was changed:\n${refused.map(formatProblem).join('\n')}`);
  const { docker, host } = dockerClientFor(environment.environment.target.docker, environment.environment.target.tls ?? undefined, io.env);
  const swarm = environment.environment.target.mode === 'swarm' ? new DockerSwarm(docker, host) : undefined;
  return { repo, environment, revision: await revision, runtime: new DockerRuntime(docker, host, dockerConfigPath(io.env), processCredentialHelper({ env: io.env })), ...(swarm ? { swarm } : {}) };
}
