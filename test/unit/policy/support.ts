import { formatProblem } from '../../../src/manifest/problem.js';
import { evaluatePolicy } from '../../../src/policy/evaluate.js';
import { toOperatorPolicy } from '../../../src/config/policy.js';
import type { RawPolicy } from '../../../src/config/policy.js';
import { envYaml, loadOne, repoWith, serviceYaml } from '../manifest/support.js';

export { envYaml, serviceYaml };

/** A fake file system for realpath: `links` maps a path to where it leads; everything else exists as itself. */
export function fakeRealpath(links: Record<string, string> = {}, missing: string[] = []) {
  return async (p: string): Promise<string> => {
    if (missing.some((m) => p === m || p.startsWith(`${m}/`))) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    for (const [from, to] of Object.entries(links)) {
      if (p === from) return to;
      if (p.startsWith(`${from}/`)) return `${to === '/' ? '' : to}${p.slice(from.length)}`;
    }
    return p;
  };
}

/** Problems the operator policy finds in environment "testing" built from inline YAML. */
export async function refusals(policy: RawPolicy | undefined, files: { env?: string; web?: string }, links: Record<string, string> = {}): Promise<string[]> {
  const env = await loadOne(repoWith({ 'environments/testing/environment.yaml': envYaml('testing', files.env ?? ''), 'environments/testing/web.yaml': serviceYaml('web', files.web ?? '') }));
  const problems = await evaluatePolicy(toOperatorPolicy(policy, 'test'), env, { realpath: fakeRealpath(links) });
  return problems.map(formatProblem);
}
