import type { ExecTest, LoadedEnvironment } from '../manifest/types.js';
import { labels } from '../runtime/labels.js';
import type { ContainerRuntime } from '../runtime/types.js';
import type { Attempt } from './types.js';
import { compareText } from '../text-order.js';

/** Runs a command inside the service's running container (its first replica): exit 0 passes. */
export async function execAttempt(runtime: ContainerRuntime, env: LoadedEnvironment, test: ExecTest, timeoutMs: number): Promise<Attempt> {
  const containers = await runtime.listContainers({ [labels.managed]: 'true', [labels.environment]: env.name, [labels.service]: test.service });
  const target = containers.filter((c) => c.state === 'running' && !/\.(next|prev)$/.test(c.name)).sort((a, b) => compareText(a.name, b.name))[0];
  if (!target && env.environment.target.mode === 'swarm') {
    // exec reaches only the node the daemon's engine is; Swarm may run every task elsewhere.
    return { result: 'failed', message: `no task of service ${test.service} runs on this node (docker at ${runtime.host}) to run ${JSON.stringify(test.command.join(' '))} in; exec tests reach only tasks on the node stagecoach talks to` };
  }
  if (!target) return { result: 'failed', message: `no running container of service ${test.service} to run ${JSON.stringify(test.command.join(' '))} in` };
  const { exitCode, output } = await runtime.exec(target.id, test.command, timeoutMs);
  const command = test.command.join(' ');
  if (exitCode === 'timeout') return { result: 'failed', message: `"${command}" in ${target.name} did not finish within ${timeoutMs}ms`, output };
  return exitCode === 0 ? { result: 'passed', message: `"${command}" in ${target.name} exited 0`, output } : { result: 'failed', message: `"${command}" in ${target.name} exited with code ${exitCode}`, output };
}
