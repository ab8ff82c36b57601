import type { Logger } from 'pino';
import type { GitWriter, PushOutcome, SignOption } from '../git/ports.js';
import { parseImageRef } from '../manifest/image-ref.js';
import type { LoadedEnvironment } from '../manifest/types.js';
import { revisionLabel } from '../reconcile/format.js';
import type { SecretSource } from '../reconcile/secrets.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { buildMarker, markerCommitMessage, markerPath, markerYaml } from '../promotion/marker.js';
import type { MarkerService, PromotionMarker } from '../promotion/marker.js';
import { proposePromotion } from '../promotion/propose.js';
import type { ProposalGit, ProposalResult } from '../promotion/propose.js';
import { runTests, summarize } from '../verify/run-tests.js';
import type { TestResult } from '../verify/types.js';
import type { Clock } from './clock.js';

/** The registry digest of an image as the engine knows it (repo@sha256:…), when it came from a registry. */
export async function imageFacts(runtime: ContainerRuntime, image: string): Promise<MarkerService> {
  const info = await runtime.inspectImage(image).catch(() => undefined);
  const parsed = parseImageRef(image);
  const name = parsed.ok ? (parsed.ref.registry ? `${parsed.ref.registry}/${parsed.ref.repository}` : parsed.ref.repository) : image;
  const digests = info?.repoDigests ?? [];
  const match = digests.find((d) => d.split('@')[0] === name || d.split('@')[0] === `docker.io/library/${name}`) ?? digests[0];
  return { image, digest: parsed.ok && parsed.ref.digest ? parsed.ref.digest : (match?.split('@')[1] ?? null), imageId: info?.id ?? null };
}

export async function imageDigests(runtime: ContainerRuntime, env: LoadedEnvironment): Promise<Record<string, string | null>> {
  const facts = await Promise.all(env.services.map((s) => imageFacts(runtime, s.spec.image)));
  return Object.fromEntries(facts.map((f) => [f.image, f.digest]));
}

/** A verification whose marker is written but maybe not pushed yet. */
export interface PendingMarker {
  env: LoadedEnvironment;
  revision: string;
  marker: PromotionMarker;
  results: TestResult[];
}

/** Runs the environment's tests against what runs and writes the marker (not pushed: see pushMarker). */
export async function verifyEnvironment(input: { env: LoadedEnvironment; revision: string; trigger: string; runtime: ContainerRuntime; secrets: SecretSource; log: Logger; clock: Clock; facts?: () => Promise<Record<string, MarkerService>> | undefined }): Promise<PendingMarker> {
  const { env, runtime } = input;
  const startedAt = input.clock.now();
  const results = await runTests(env, { runtime, secrets: input.secrets, onResult: (r) => input.log.info({ environment: env.name, test: r.name, result: r.result, message: r.message }, `test ${r.result}`) });
  // A Swarm target says which digests its tasks run (see swarm-facts.ts); an engine's images are read here.
  const read = input.facts?.();
  const facts = read ? await read : Object.fromEntries(await Promise.all(env.services.map(async (s) => [s.name, await imageFacts(runtime, s.spec.image)] as const)));
  const marker = buildMarker({ environment: env.name, revision: input.revision, startedAt, finishedAt: input.clock.now(), trigger: input.trigger, services: facts, tests: results });
  return { env: input.env, revision: input.revision, marker, results };
}

/**
 * Commits promotions/<env>.yaml with trailers on top of the remote head and
 * pushes it (rebuilt on the new head when others pushed first; never forced).
 * The marker file is written whole by this daemon: if another writer touched
 * it meanwhile, ours is the newer verification.
 */
export async function pushMarker(git: Pick<GitWriter, 'push'>, branch: string, pending: PendingMarker, sign?: SignOption): Promise<PushOutcome> {
  const changes = { [markerPath(pending.env.name)]: markerYaml(pending.marker) };
  return git.push({ branch, message: markerCommitMessage(pending.marker), sign, changes: async () => changes });
}

export function describeResults(results: readonly TestResult[]): string {
  const s = summarize(results);
  return `${s.result} ${s.passed}/${s.total} tests`;
}

/** After a passing marker: propose (or commit) the verified images for every environment that promotes from this one. */
export async function promoteDownstream(input: { git: ProposalGit; from: LoadedEnvironment; marker: PromotionMarker; all: readonly LoadedEnvironment[]; branch: string; sign?: SignOption }): Promise<{ env: string; result: ProposalResult }[]> {
  const out: { env: string; result: ProposalResult }[] = [];
  for (const to of input.all) {
    const { from: upstream, auto } = to.environment.promotion;
    if (upstream !== input.from.name || auto === 'off') continue;
    const images = Object.fromEntries(to.services.filter((s) => input.marker.services[s.name]).map((s) => [s.name, input.marker.services[s.name]!.image]));
    const by = `stagecoach after ${input.from.name} passed at ${revisionLabel(input.marker.revision)}`;
    const result = await proposePromotion(input.git, { branch: input.branch, from: input.from.name, to: to.name, images, verifiedAt: input.marker.revision, mode: auto, by, sign: input.sign });
    out.push({ env: to.name, result });
  }
  return out;
}
