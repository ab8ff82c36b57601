import { globMatch } from './glob.js';
import type { OperatorPolicy, ResolvedGrant } from './types.js';

/** The grant for one environment: the first `policy.environments` entry whose match fits, else the defaults. */
export function grantFor(policy: OperatorPolicy, environment: string): ResolvedGrant {
  const index = policy.environments.findIndex((g) => globMatch(g.match, environment));
  if (index === -1) return { ...policy.defaults, setting: 'policy.defaults' };
  const { match, ...grant } = policy.environments[index]!;
  return { ...grant, setting: `policy.environments[${index}] (match ${JSON.stringify(match)})` };
}
