import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DeployError, isStagecoachError } from '../errors.js';
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

/**
 * Where the proxy image comes from when an engine lacks it and no registry
 * answers: the engine stagecoach runs beside (DOCKER_HOST, else the local
 * socket). The stand-in is built there; other engines get a copy of it.
 */
export interface EdgeImageSupply {
  readonly local: ContainerRuntime;
  /** Builds the image on the local engine (scripts/build-proxy-image.sh); without it a missing image is only reported. */
  build?: EdgeImageBuilder;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Streams the image from one engine into another (docker save | docker load, never held in memory whole). */
export async function copyImage(from: ContainerRuntime, to: ContainerRuntime, image: string): Promise<void> {
  if (!from.saveImage || !to.loadImage) throw new DeployError(`copying images from ${from.host} to ${to.host} is not supported by this runtime`);
  const archive = await from.saveImage(image);
  await to.loadImage(archive, `image ${image} (copied from ${from.host})`);
}

/**
 * Makes sure the proxy image is on the engine: present, else pulled, else
 * (the local engine) built as a stand-in, else (another engine) copied from
 * the local engine, building it there first if needed. Only this image is
 * ever copied: stagecoach owns it, while service images come from a registry
 * or the user. `say` tells why each fallback is taken.
 */
export async function ensureEdgeImage(runtime: ContainerRuntime, image: string, supply: EdgeImageSupply | undefined, say: (message: string) => void): Promise<void> {
  if (await runtime.inspectImage(image)) return;
  let pullFailure: string;
  try {
    say(`pulling the edge proxy image ${image} on ${runtime.host}`);
    await runtime.pullImage(image);
    return;
  } catch (error) {
    pullFailure = errorText(error);
  }
  const local = supply?.local;
  const todo = `load it there (docker save ${image} | docker -H ${runtime.host} load), make a registry that has it reachable from that engine, or set edge: off on the service`;
  if (!supply || !local) throw new DeployError(`the edge proxy image ${image} is not on ${runtime.host} and cannot be pulled (${pullFailure}): run scripts/build-proxy-image.sh against that engine, or ${todo}`);
  if (local.host === runtime.host) {
    if (!supply.build) throw new DeployError(`the edge proxy image ${image} is not on ${runtime.host} and cannot be pulled (${pullFailure}): run scripts/build-proxy-image.sh`);
    say(`no registry answered for ${image} (${pullFailure}); building a local stand-in with scripts/build-proxy-image.sh`);
    await supply.build(image, runtime.host);
    if (!(await runtime.inspectImage(image))) throw new DeployError(`the edge proxy image ${image} is still missing on ${runtime.host} after building it`);
    return;
  }
  try {
    if (!(await local.inspectImage(image))) {
      if (!supply.build) throw new Error(`it is not on the local engine ${local.host} either`);
      say(`the edge proxy image ${image} is not on the local engine ${local.host} either: building a local stand-in there with scripts/build-proxy-image.sh`);
      await supply.build(image, local.host);
    }
    say(`the edge proxy image ${image} is not on ${runtime.host} and cannot be pulled there (${pullFailure}): copying it from the local engine ${local.host}`);
    await copyImage(local, runtime, image);
    if (!(await runtime.inspectImage(image))) throw new Error(`${runtime.host} loaded the archive but has no image ${image}`);
  } catch (error) {
    // An engine that did not answer may answer next time; a refused archive will not.
    const transient = isStagecoachError(error) && error.transient;
    throw new DeployError(`the edge proxy image ${image} is not on ${runtime.host}, cannot be pulled there (${pullFailure}), and copying it from the local engine ${local.host} failed (${errorText(error)}): ${todo}`, { cause: error, transient });
  }
}
