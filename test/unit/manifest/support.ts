import { memoryRepo } from '../../../src/manifest/files.js';
import { loadRepo } from '../../../src/manifest/load.js';
import { formatProblem } from '../../../src/manifest/problem.js';
import { compileSchemas } from '../../../src/manifest/schemas.js';

export const validators = compileSchemas();

export const envYaml = (name = 'testing', extra = '') => `apiVersion: stagecoach/v1
kind: Environment
name: ${name}
${extra}`;

export const serviceYaml = (name: string, extra = '', image = 'busybox:1.35') => `apiVersion: stagecoach/v1
kind: Service
name: ${name}
image: ${image}
${extra}`;

/** A valid testing environment with one service, overridden file by file. */
export function repoWith(overrides: Record<string, string>): Record<string, string> {
  return {
    'environments/testing/environment.yaml': envYaml(),
    'environments/testing/web.yaml': serviceYaml('web'),
    ...overrides,
  };
}

export async function problemsOf(files: Record<string, string>): Promise<string[]> {
  const result = await loadRepo(memoryRepo(files), validators);
  return result.problems.map(formatProblem);
}

export async function loadOne(files: Record<string, string>, env = 'testing') {
  const result = await loadRepo(memoryRepo(files), validators);
  const load = result.environments.find((e) => e.name === env);
  if (!load?.loaded) throw new Error(`environment ${env} did not load:\n${result.problems.map(formatProblem).join('\n')}`);
  return load.loaded;
}
