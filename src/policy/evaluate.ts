import type { Problem } from '../manifest/problem.js';
import type { EnvValue, LoadedEnvironment } from '../manifest/types.js';
import { dockerSockets, exposesDockerSocket, isInside, resolveHostPath } from './bind-paths.js';
import type { RealPath } from './bind-paths.js';
import { globMatch } from './glob.js';
import { grantFor } from './grant.js';
import { hostOptionsOf } from './host-options.js';
import { httpTargetProblem } from './http-targets.js';
import type { OperatorPolicy, ResolvedGrant } from './types.js';

export interface PolicyDeps {
  realpath: RealPath;
  /** The Docker sockets of this host, resolved (tests pass their own). */
  sockets?: readonly string[];
}

function secretRefs(env: Record<string, EnvValue>): string[] {
  return Object.values(env).flatMap((v) => (typeof v === 'string' ? [] : [v.secret]));
}

function targetProblems(env: LoadedEnvironment, grant: ResolvedGrant): Problem[] {
  const target = env.environment.target.docker ?? 'default';
  if (grant.dockerTargets.some((t) => globMatch(t, target))) return [];
  return [
    {
      file: env.environment.file,
      path: '/target/docker',
      message: `Docker endpoint ${target} is not allowed for environment ${env.name} by the operator (allow it in the daemon settings: ${grant.setting}.dockerTargets; allowed now: ${grant.dockerTargets.join(', ') || 'none'})`,
    },
  ];
}

function secretProblems(env: LoadedEnvironment, grant: ResolvedGrant): Problem[] {
  const problems: Problem[] = [];
  const check = (name: string, file: string, where: string) => {
    if (grant.secrets.some((g) => globMatch(g, name))) return;
    problems.push({ file, path: where, message: `reads secret ${name}, which the operator does not allow environment ${env.name} to read (allow it in the daemon settings: ${grant.setting}.secrets; allowed now: ${grant.secrets.join(', ') || 'none'})` });
  };
  for (const s of env.services) for (const name of secretRefs(s.spec.environment)) check(name, s.file, '/environment');
  // Compose `secrets:` (files under /run/secrets) read the same secrets directory: the same grant.
  for (const s of env.services) for (const f of s.spec.files ?? []) if (f.secret) check(f.secret, s.file, '/secrets');
  env.environment.tests.forEach((t, i) => {
    for (const name of t.container ? secretRefs(t.container.environment) : []) check(name, env.environment.file, `/tests/${i}/container/environment`);
  });
  return problems;
}

async function bindProblems(env: LoadedEnvironment, grant: ResolvedGrant, deps: PolicyDeps): Promise<Problem[]> {
  const problems: Problem[] = [];
  const sockets = deps.sockets ?? dockerSockets;
  const allowed = await Promise.all(grant.bindMounts.map(async (dir) => ({ dir, real: await resolveHostPath(dir, deps.realpath).catch(() => dir) })));
  for (const s of env.services) {
    for (const mount of s.spec.volumes) {
      if (mount.type !== 'bind' || !mount.source) continue;
      const at = { file: s.file, line: s.line, path: '/volumes' };
      let real: string;
      try {
        real = await resolveHostPath(mount.source, deps.realpath);
      } catch (error) {
        problems.push({ ...at, message: `bind mount source ${mount.source} cannot be resolved on the daemon host (${(error as NodeJS.ErrnoException).code ?? String(error)})` });
        continue;
      }
      const shown = real === mount.source ? mount.source : `${mount.source} (which leads to ${real})`;
      if (exposesDockerSocket(real, sockets) && !grant.hostOptions) {
        problems.push({ ...at, message: `service ${s.name} bind-mounts ${shown}, which exposes the Docker engine: a host-level option the operator has not allowed (allow it in the daemon settings: ${grant.setting}.hostOptions: true)` });
        continue;
      }
      if (allowed.some((a) => isInside(real, a.real))) continue;
      const textually = allowed.some((a) => isInside(mount.source!, a.dir));
      const why = textually ? `${mount.source} is under an allowed folder but leads out of it through a link to ${real}` : `host path ${shown} is not under a folder the operator allows`;
      problems.push({ ...at, message: `service ${s.name}: ${why} (allow it in the daemon settings: ${grant.setting}.bindMounts; allowed now: ${grant.bindMounts.join(', ') || 'none'})` });
    }
  }
  return problems;
}

function hostOptionProblems(env: LoadedEnvironment, grant: ResolvedGrant): Problem[] {
  if (grant.hostOptions) return [];
  return env.services.flatMap((s) =>
    hostOptionsOf(s.spec).map((option) => ({
      file: s.file,
      line: s.line,
      message: `service ${s.name} uses ${option}, a host-level option the operator has not allowed for environment ${env.name} (allow it in the daemon settings: ${grant.setting}.hostOptions: true)`,
    })),
  );
}

function httpProblems(env: LoadedEnvironment, grant: ResolvedGrant): Problem[] {
  return env.environment.tests.flatMap((t, i) => {
    if (!t.http) return [];
    const message = httpTargetProblem(t.http.url, env, grant);
    return message ? [{ file: env.environment.file, path: `/tests/${i}/http/url`, message }] : [];
  });
}

/**
 * What the operator's policy refuses in one environment: Docker endpoint,
 * bind mounts (after following links), host-level options, secrets and HTTP
 * test targets. Empty when allowed. Each problem names the setting that would allow it.
 */
export async function evaluatePolicy(policy: OperatorPolicy, env: LoadedEnvironment, deps: PolicyDeps): Promise<Problem[]> {
  const grant = grantFor(policy, env.name);
  return [...targetProblems(env, grant), ...(await bindProblems(env, grant, deps)), ...hostOptionProblems(env, grant), ...secretProblems(env, grant), ...httpProblems(env, grant)];
}
