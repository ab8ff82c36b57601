// Shared harness for integration tests that drive a real Docker engine.
//
// Integration tests never skip: when no engine answers, requireDocker()
// throws, and the test run fails with a message saying how to get one.
import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';

/** The base image of every test image; scripts/build-local-images.sh makes it. */
export const BASE_IMAGE = 'busybox:1.35';

/** Label key that tests put on everything they create (value: a run id). */
export const TEST_LABEL = 'io.stagecoach.test';

const HOW_TO_GET_AN_ENGINE =
  'Get one with `apt-get install -y docker.io && dockerd >/var/log/dockerd.log 2>&1 &` ' +
  '(then wait until `docker info` answers), or run `.ci/run`, which installs and starts ' +
  'everything the tests need. Integration tests are never skipped.';

function describeEndpoint(): string {
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    let text = code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
    // fetch() says only "fetch failed"; the reason (ECONNREFUSED, ...) is its cause.
    if (err.cause !== undefined) text += ` (${errorText(err.cause)})`;
    return text;
  }
  return String(err);
}

function statusCode(err: unknown): number | undefined {
  if (err && typeof err === 'object' && 'statusCode' in err) {
    const code = (err as { statusCode?: unknown }).statusCode;
    return typeof code === 'number' ? code : undefined;
  }
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A dockerode client for the local engine, after checking that the engine
 * answers. Throws (never skips) when it does not.
 */
export async function requireDocker(): Promise<Docker> {
  const docker = new Docker();
  try {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer to /_ping within 5 s')), 5_000);
    });
    try {
      await Promise.race([docker.ping(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  } catch (err) {
    throw new Error(
      `The integration tests need a running Docker engine, and none answered at ` +
        `${describeEndpoint()} (${errorText(err)}). ${HOW_TO_GET_AN_ENGINE}`,
    );
  }
  return docker;
}

/**
 * Throws a helpful error when `image` (default busybox:1.35) is missing from
 * the engine: no registry is reachable here, so it has to be built locally.
 */
export async function requireImage(docker: Docker, image: string = BASE_IMAGE): Promise<Docker.ImageInspectInfo> {
  try {
    return await docker.getImage(image).inspect();
  } catch (err) {
    if (statusCode(err) === 404) {
      throw new Error(
        `The image ${image} is not in the local engine, and no registry can be reached to pull it. ` +
          `Run \`bash scripts/build-local-images.sh\` (or \`.ci/run\`) to build it locally.`,
      );
    }
    throw err;
  }
}

/** A short unique lowercase name, safe for containers, networks and volumes. */
export function uniqueName(prefix: string): string {
  const clean =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9_.-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '')
      .replace(/-+$/, '')
      .slice(0, 40) || 'test';
  return `${clean}-${randomBytes(3).toString('hex')}`;
}

/** Runs `fn`, treating a 404 (already gone) or `alsoQuiet` status as success. */
async function quietly(fn: () => Promise<unknown>, alsoQuiet: number[] = []): Promise<unknown> {
  try {
    await fn();
    return undefined;
  } catch (err) {
    const code = statusCode(err);
    if (code === 404 || (code !== undefined && alsoQuiet.includes(code))) return undefined;
    return err;
  }
}

export interface RemoveByLabelOptions {
  /** Also remove images (tagged and intermediate) carrying the label. Default false. */
  images?: boolean;
}

/**
 * Force-removes every container (running or not) carrying `label` (with
 * `value`, when given), then the networks and volumes carrying it, and, with
 * `{ images: true }`, the images. Things already gone are ignored; other
 * failures are collected and thrown at the end, after everything was tried.
 */
export async function removeByLabel(
  docker: Docker,
  label: string,
  value?: string,
  options: RemoveByLabelOptions = {},
): Promise<void> {
  const filter = { label: [value === undefined ? label : `${label}=${value}`] };
  const errors: unknown[] = [];
  const note = (err: unknown): void => {
    if (err !== undefined) errors.push(err);
  };

  const containers = await docker.listContainers({ all: true, filters: filter });
  await Promise.all(
    containers.map(async (c) => {
      // 409: "removal already in progress".
      note(await quietly(() => docker.getContainer(c.Id).remove({ force: true, v: true }), [409]));
    }),
  );

  // Networks and volumes can stay busy for a moment after their containers go.
  const retrying = async (fn: () => Promise<unknown>): Promise<unknown> => {
    let last: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      last = await quietly(fn);
      if (last === undefined) return undefined;
      await sleep(200 * (attempt + 1));
    }
    return last;
  };

  const networks = await docker.listNetworks({ filters: filter });
  for (const n of networks) note(await retrying(() => docker.getNetwork(n.Id).remove()));

  const { Volumes: volumes } = await docker.listVolumes({ filters: filter });
  for (const v of volumes ?? []) note(await retrying(() => docker.getVolume(v.Name).remove()));

  if (options.images) {
    // Children before parents: retry passes until nothing more goes.
    for (let pass = 0; pass < 5; pass++) {
      const images = await docker.listImages({ all: true, filters: filter });
      if (images.length === 0) break;
      const failures: unknown[] = [];
      for (const img of images) {
        const err = await quietly(() => docker.getImage(img.Id).remove({ force: true }));
        if (err !== undefined) failures.push(err);
      }
      if (failures.length === 0) continue;
      if (pass === 4) errors.push(...failures);
    }
  }

  if (errors.length > 0) {
    throw new Error(
      `removeByLabel(${filter.label[0]}) left things behind: ${errors.map(errorText).join('; ')}`,
    );
  }
}

export interface TestHealthcheck {
  /** A shell command (run as CMD-SHELL) or an exec-form command such as ['nc', '-z', ...]. */
  test: string | string[];
  intervalMs?: number;
  timeoutMs?: number;
  startPeriodMs?: number;
  retries?: number;
}

export interface BuildTestImageOptions {
  /** Files to add, by absolute path in the image. Content starting with `#!` is made executable. */
  files?: Record<string, string>;
  /** Shell-form RUN steps (one line each), run after the files are added. */
  run?: string[];
  /** Exec-form CMD. */
  cmd?: string[];
  /** Exec-form ENTRYPOINT. */
  entrypoint?: string[];
  env?: Record<string, string>;
  healthcheck?: TestHealthcheck;
  /** Labels on the image (and so on every container made from it). */
  labels?: Record<string, string>;
  /** Base image; default busybox:1.35. */
  from?: string;
}

/** Dockerfile text for the given options (exported for unit checks). */
export function testDockerfile(opts: BuildTestImageOptions, hasFiles: boolean): string {
  const q = (s: string): string => JSON.stringify(s);
  const lines = [`FROM ${opts.from ?? BASE_IMAGE}`];
  // Labels first, so that intermediate images of a failed build carry them
  // too and removeByLabel(..., { images: true }) can find them.
  const labels = Object.entries(opts.labels ?? {});
  if (labels.length > 0) lines.push(`LABEL ${labels.map(([k, v]) => `${q(k)}=${q(v)}`).join(' ')}`);
  const env = Object.entries(opts.env ?? {});
  if (env.length > 0) lines.push(`ENV ${env.map(([k, v]) => `${k}=${q(v)}`).join(' ')}`);
  if (hasFiles) lines.push('COPY files/ /');
  for (const step of opts.run ?? []) {
    if (step.includes('\n')) throw new Error(`buildTestImage: RUN steps are single lines: ${JSON.stringify(step)}`);
    lines.push(`RUN ${step}`);
  }
  const hc = opts.healthcheck;
  if (hc) {
    const flags = [
      hc.intervalMs !== undefined ? `--interval=${hc.intervalMs}ms` : '',
      hc.timeoutMs !== undefined ? `--timeout=${hc.timeoutMs}ms` : '',
      hc.startPeriodMs !== undefined ? `--start-period=${hc.startPeriodMs}ms` : '',
      hc.retries !== undefined ? `--retries=${hc.retries}` : '',
    ].filter(Boolean);
    const cmd = typeof hc.test === 'string' ? hc.test : JSON.stringify(hc.test);
    lines.push(`HEALTHCHECK ${[...flags, 'CMD', cmd].join(' ')}`);
  }
  if (opts.entrypoint) lines.push(`ENTRYPOINT ${JSON.stringify(opts.entrypoint)}`);
  if (opts.cmd) lines.push(`CMD ${JSON.stringify(opts.cmd)}`);
  return lines.join('\n') + '\n';
}

interface BuildOutputItem {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string; code?: number };
  aux?: { ID?: string };
}

/**
 * Builds a tiny image FROM busybox:1.35 tagged `tag` and returns its id.
 * A failed build throws (dockerode itself reports failed builds as success:
 * the error is an `{error, errorDetail}` item in the output).
 */
export async function buildTestImage(
  docker: Docker,
  tag: string,
  opts: BuildTestImageOptions = {},
): Promise<string> {
  await requireImage(docker, opts.from ?? BASE_IMAGE);
  const dir = await mkdtemp(join(tmpdir(), 'stagecoach-build-'));
  try {
    const files = Object.entries(opts.files ?? {});
    for (const [path, content] of files) {
      const rel = posix.normalize(path).replace(/^\/+/, '');
      if (rel === '' || rel === '.' || rel.startsWith('..')) {
        throw new Error(`buildTestImage: bad file path ${JSON.stringify(path)}`);
      }
      const target = join(dir, 'files', ...rel.split('/'));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content, { mode: content.startsWith('#!') ? 0o755 : 0o644 });
    }
    await writeFile(join(dir, 'Dockerfile'), testDockerfile(opts, files.length > 0));

    const stream = await docker.buildImage(
      { context: dir, src: files.length > 0 ? ['Dockerfile', 'files'] : ['Dockerfile'] },
      { t: tag, rm: true, forcerm: true, version: '1' },
    );
    const output = await new Promise<BuildOutputItem[]>((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null, out: BuildOutputItem[]) =>
        err ? reject(err) : resolve(out),
      );
    });
    const failed = output.find((item) => item.error !== undefined || item.errorDetail !== undefined);
    if (failed) {
      const log = output
        .map((item) => item.stream ?? '')
        .join('')
        .trimEnd()
        .split('\n')
        .slice(-20)
        .join('\n');
      throw new Error(
        `docker build of ${tag} failed: ${failed.error ?? failed.errorDetail?.message ?? 'unknown error'}` +
          (log ? `\n--- build output (last lines) ---\n${log}` : ''),
      );
    }
    const info = await docker.getImage(tag).inspect();
    return info.Id;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The host port that `containerPort` (e.g. '8080/tcp') is published on. */
export async function publishedPort(docker: Docker, containerId: string, containerPort: string): Promise<number> {
  const info = await docker.getContainer(containerId).inspect();
  const binding = info.NetworkSettings.Ports?.[containerPort]?.[0];
  if (!binding?.HostPort) {
    throw new Error(`container ${containerId.slice(0, 12)} does not publish ${containerPort}`);
  }
  return Number(binding.HostPort);
}

/** GET `url`; resolves with status and body, rejects on network errors or timeout. */
export async function httpGet(url: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text() };
}

// Shared with the benchmarks.
export { freePort, waitFor } from '../../support/wait.js';
export type { WaitForOptions } from '../../support/wait.js';
