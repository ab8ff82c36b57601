import type { ContainerTest, LoadedEnvironment } from '../manifest/types.js';
import { managedLabels } from '../reconcile/container-spec.js';
import type { SecretSource } from '../reconcile/secrets.js';
import { resolveEnvironment } from '../reconcile/secrets.js';
import { networkName } from '../runtime/labels.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { Attempt } from './types.js';

const testLabel = 'io.stagecoach.test-run';

/** Runs a test image on the environment's network: exit 0 passes; its output tail is kept; it is removed afterwards. */
export async function containerAttempt(runtime: ContainerRuntime, env: LoadedEnvironment, name: string, test: ContainerTest, secrets: SecretSource, timeoutMs: number, lines = 20): Promise<Attempt> {
  if (!(await runtime.inspectImage(test.image))) {
    try {
      await runtime.pullImage(test.image);
    } catch (error) {
      return { result: 'error', message: `test image ${test.image} is not present on ${runtime.host} and could not be pulled: ${(error as Error).message}` };
    }
  }
  const safe = name.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').slice(0, 40);
  const id = await runtime.createContainer({
    name: `${env.name}-test-${safe}-${Date.now().toString(36)}`,
    image: test.image,
    command: test.command,
    entrypoint: null,
    env: resolveEnvironment(test.environment, secrets, `${env.name} test "${name}"`),
    labels: { ...managedLabels(env.name), [testLabel]: name },
    ports: [],
    mounts: [],
    healthcheck: null,
    restart: 'no',
    init: true,
    stopGraceMs: 1_000,
    resources: { nanoCpus: null, memoryBytes: null, pids: null },
    network: networkName(env.name),
    aliases: [],
  });
  try {
    await runtime.startContainer(id);
    const exit = await runtime.waitForExit(id, timeoutMs);
    const output = await runtime.logsTail(id, lines).catch(() => '');
    if (exit === 'timeout') return { result: 'failed', message: `${test.image} did not finish within ${timeoutMs}ms (killed)`, output };
    return exit === 0 ? { result: 'passed', message: `${test.image} exited 0`, output } : { result: 'failed', message: `${test.image} exited with code ${exit}`, output };
  } finally {
    await runtime.removeContainer(id).catch(() => undefined);
  }
}
