import { realpath } from 'node:fs/promises';
import type { Problem } from '../manifest/problem.js';
import type { LoadedEnvironment } from '../manifest/types.js';
import { evaluatePolicy } from './evaluate.js';
import type { OperatorPolicy } from './types.js';

/** evaluatePolicy against this host's file system: the call sites in the daemon and the CLI. */
export function hostPolicyProblems(policy: OperatorPolicy, env: LoadedEnvironment): Promise<Problem[]> {
  return evaluatePolicy(policy, env, { realpath: (p) => realpath(p) });
}
