import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DeployError } from '../errors.js';
import type { ContainerRuntime } from '../runtime/types.js';

/** Builds the edge proxy image on the engine at `host` when no registry has it. */
export type EdgeImageBuilder = (image: string, host: string) => Promise<void>;

const script = fileURLToPath(new URL('../../scripts/build-proxy-image.sh', import.meta.url));

/**
 * The default builder: scripts/build-proxy-image.sh (the same script
 * `.ci/run` runs), pointed at the engine with DOCKER_HOST. It builds a local
 * stand-in from the host's Debian haproxy and busybox-static and says so.
 */
export const scriptImageBuilder =
  (env: NodeJS.ProcessEnv): EdgeImageBuilder =>
  (image, host) =>
    new Promise((resolve, reject) => {
    const output: string[] = [];
    const child = spawn('bash', [script], {
      env: { ...env, DOCKER_HOST: host, EDGE_IMAGE: image, EDGE_PULL_TIMEOUT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (c: Buffer) => output.push(c.toString()));
    child.stderr.on('data', (c: Buffer) => output.push(c.toString()));
    child.on('error', (error) => reject(new DeployError(`cannot run ${script}: ${error.message}`, { cause: error })));
    child.on('close', (code) => {
      if (code === 0) return resolve();
      reject(new DeployError(`building the edge proxy image ${image} failed (exit ${code}): ${output.join('').trim().split('\n').slice(-3).join(' | ')}`));
    });
  });

/** Makes sure the proxy image is on the engine: present, else pulled, else built locally (saying so). */
export async function ensureEdgeImage(runtime: ContainerRuntime, image: string, build: EdgeImageBuilder | undefined, say: (message: string) => void): Promise<void> {
  if (await runtime.inspectImage(image)) return;
  try {
    say(`pulling the edge proxy image ${image}`);
    await runtime.pullImage(image);
    return;
  } catch (error) {
    say(`no registry answered for ${image} (${(error as Error).message}); building a local stand-in with scripts/build-proxy-image.sh`);
  }
  if (!build) throw new DeployError(`the edge proxy image ${image} is not on ${runtime.host} and cannot be pulled: run scripts/build-proxy-image.sh`);
  await build(image, runtime.host);
  if (!(await runtime.inspectImage(image))) throw new DeployError(`the edge proxy image ${image} is still missing on ${runtime.host} after building it`);
}
