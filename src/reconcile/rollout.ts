import type { ServiceManifest } from '../manifest/types.js';
import { DeployError, isStagecoachError } from '../errors.js';
import { slotSuffix } from '../runtime/labels.js';
import type { ApplyContext } from './apply-context.js';
import { buildCreate } from './container-spec.js';
import { waitReady } from './health.js';
import type { Action } from './types.js';
import { edgeHandover, edgeRestore, ensureEdgeReady } from '../proxy/edge-apply.js';
import { withEdge } from '../proxy/edge-container.js';

export const outcomes = ['ok', 'rolled-back', 'failed', 'skipped'] as const;
export type Outcome = (typeof outcomes)[number];

export interface ActionResult {
  action: Action;
  outcome: Outcome;
  /** What happened, or why it failed, in a sentence. */
  message: string;
  /** The failing container's last output lines. */
  logTail?: string;
  durationMs: number;
  /** The failure may pass if retried as is (engine or registry unreachable): the daemon retries with backoff. */
  transient?: boolean;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Makes sure the image is there, per pull_policy; throws a DeployError that
 * names image and host. Once per image in an apply: twenty services of one
 * image cost one inspect (or one pull), not twenty.
 */
function ensureImage(ctx: ApplyContext, service: ServiceManifest, replica: number | undefined): Promise<void> {
  if (!ctx.imageChecks) return checkImage(ctx, service, replica);
  const key = `${service.pullPolicy} ${service.spec.options?.platform ?? ''} ${service.spec.image}`;
  let check = ctx.imageChecks.get(key);
  if (!check) {
    check = checkImage(ctx, service, replica);
    ctx.imageChecks.set(key, check);
  }
  return check;
}

async function checkImage(ctx: ApplyContext, service: ServiceManifest, replica: number | undefined): Promise<void> {
  const image = service.spec.image;
  const present = service.pullPolicy === 'always' ? false : (await ctx.runtime.inspectImage(image)) !== undefined;
  if (present) return;
  if (service.pullPolicy === 'never') {
    throw new DeployError(`image ${image} is not present on ${ctx.runtime.host} and pull_policy is never`);
  }
  ctx.emit(service.name, replica, 'pulling', `pulling ${image}`);
  try {
    await ctx.runtime.pullImage(image, undefined, service.spec.options?.platform);
  } catch (error) {
    throw new DeployError(`image ${image} is not present on ${ctx.runtime.host} and could not be pulled: ${errorText(error)}`, { cause: error, transient: isStagecoachError(error) && error.transient });
  }
}

async function tail(ctx: ApplyContext, id: string): Promise<string | undefined> {
  return ctx.runtime.logsTail(id, ctx.logLines).catch(() => undefined);
}

async function retire(ctx: ApplyContext, id: string, graceMs: number): Promise<void> {
  await ctx.runtime.stopContainer(id, graceMs);
  await ctx.runtime.removeContainer(id);
}

/** Creates and starts one container, then waits for it; on failure removes it and reports why. */
async function startNew(ctx: ApplyContext, service: ServiceManifest, replica: number, slot: 'current' | 'candidate', edge?: Action['edge']) {
  const built = buildCreate(ctx.environment, service, replica, slot, ctx.revision, ctx.secrets);
  const create = edge ? withEdge(built, edge.color) : built; // behind the edge proxy: no host port of its own
  ctx.emit(service.name, replica, 'creating', `creating ${create.name} from ${create.image}`);
  const id = await ctx.runtime.createContainer(create);
  await ctx.failpoint('after-create', service.name);
  try {
    ctx.emit(service.name, replica, 'starting', `starting ${create.name}`);
    const since = ctx.wakeups?.cursor(id); // its events from the start on: an exit at once is not missed
    await ctx.runtime.startContainer(id);
    const startedAt = ctx.ready.now();
    await ctx.failpoint('after-start', service.name);
    ctx.emit(service.name, replica, 'waiting', `waiting for ${create.name} to become healthy`);
    await ctx.failpoint('during-health-wait', service.name);
    const failure = (await waitReady(ctx.runtime, id, service.spec, ctx.ready, ctx.wakeups, startedAt, since)) ?? (await edgeHandover(ctx, service, edge));
    if (!failure) return { id, name: create.name };
    const logTail = await tail(ctx, id);
    await ctx.runtime.removeContainer(id);
    return { failure: `${create.name} ${failure}`, logTail };
  } catch (error) {
    const logTail = await tail(ctx, id);
    await ctx.runtime.removeContainer(id).catch(() => undefined);
    return { failure: `${create.name} ${errorText(error)}`, logTail };
  }
}

type Step = Omit<ActionResult, 'action' | 'durationMs'>;

const defaultJobTimeoutMs = 600_000;

/**
 * A one-shot job: starts it and waits for its exit. Exit 0 is success; the
 * exited container stays, which is how the next plan knows the job is done.
 */
async function runJob(ctx: ApplyContext, service: ServiceManifest, id: string, name: string): Promise<Step> {
  ctx.emit(service.name, undefined, 'starting', `running job ${name}`);
  await ctx.runtime.startContainer(id);
  ctx.emit(service.name, undefined, 'waiting', `waiting for job ${name} to exit`);
  const timeoutMs = ctx.ready.jobTimeoutMs ?? defaultJobTimeoutMs;
  const code = await ctx.runtime.waitForExit(id, timeoutMs);
  if (code === 0) return { outcome: 'ok', message: `job ${name} completed (exit code 0)` };
  const logTail = await tail(ctx, id);
  const why = code === 'timeout' ? `did not exit within ${Math.round(timeoutMs / 1000)} s and was killed` : `exited with code ${code}`;
  return { outcome: 'failed', message: `job ${name} ${why}`, logTail };
}

/** Creates (replacing any earlier run) and runs a job. */
async function job(ctx: ApplyContext, action: Action, service: ServiceManifest): Promise<Step> {
  if (action.kind === 'restart' && action.restartMode === 'start') return runJob(ctx, service, action.container!.id, action.container!.name);
  await ensureImage(ctx, service, action.replica);
  if (action.container) await retire(ctx, action.container.id, action.graceMs ?? service.spec.stopGraceMs);
  const spec = buildCreate(ctx.environment, service, action.replica ?? 1, 'current', ctx.revision, ctx.secrets);
  ctx.emit(service.name, action.replica, 'creating', `creating job ${spec.name} from ${spec.image}`);
  const id = await ctx.runtime.createContainer(spec);
  return runJob(ctx, service, id, spec.name);
}

async function create(ctx: ApplyContext, action: Action, service: ServiceManifest): Promise<Step> {
  await ensureImage(ctx, service, action.replica);
  await ensureEdgeReady(ctx, service, action.edge);
  const started = await startNew(ctx, service, action.replica ?? 1, 'current', action.edge);
  if ('failure' in started) return { outcome: 'failed', message: `could not start: ${started.failure}`, logTail: started.logTail };
  return { outcome: 'ok', message: `created ${started.name} (${service.spec.image})` };
}

/**
 * start-first: the new container starts beside the old, which retires only
 * once the new one is healthy, and at once then, even while other new
 * containers of the step are still starting: every old container still
 * running runs its healthcheck too, and on a small host those probes compete
 * with the starts (bench/README.md, 2026-11-30).
 */
async function startFirst(ctx: ApplyContext, action: Action, service: ServiceManifest): Promise<Step> {
  const old = action.container!;
  const replica = action.replica ?? 1;
  const started = await startNew(ctx, service, replica, 'candidate', action.edge);
  if ('failure' in started) {
    return { outcome: 'rolled-back', message: `rolled back: ${started.failure}; ${old.name} kept serving`, logTail: started.logTail };
  }
  ctx.emit(service.name, replica, 'retiring', `retiring ${old.name}`);
  await retire(ctx, old.id, service.spec.stopGraceMs);
  await ctx.failpoint('after-retire', service.name);
  const finalName = started.name.slice(0, -slotSuffix.candidate.length);
  await ctx.runtime.renameContainer(started.id, finalName);
  return { outcome: 'ok', message: `${finalName} now runs ${service.spec.image} (start-first)` };
}

/** stop-first: the old container stops but is kept (renamed .prev) until the new one is healthy. */
async function stopFirst(ctx: ApplyContext, action: Action, service: ServiceManifest, oldGraceMs: number): Promise<Step> {
  const old = action.container!;
  const replica = action.replica ?? 1;
  const previousName = `${old.name}${slotSuffix.previous}`;
  ctx.emit(service.name, replica, 'stopping', `stopping ${old.name} (kept as ${previousName} until the new one is healthy)`);
  await ctx.runtime.stopContainer(old.id, oldGraceMs);
  await ctx.runtime.renameContainer(old.id, previousName);
  await ctx.failpoint('after-stop-old', service.name);
  const started = await startNew(ctx, service, replica, 'current', action.edge);
  if (!('failure' in started)) {
    await ctx.runtime.removeContainer(old.id);
    await ctx.failpoint('after-retire', service.name);
    return { outcome: 'ok', message: `${started.name} now runs ${service.spec.image} (stop-first)` };
  }
  ctx.emit(service.name, replica, 'rolling-back', `restoring ${old.name}`);
  await ctx.runtime.renameContainer(old.id, old.name);
  await ctx.runtime.startContainer(old.id);
  await edgeRestore(ctx, service, action.edge);
  return { outcome: 'rolled-back', message: `rolled back: ${started.failure}; ${old.name} restarted`, logTail: started.logTail };
}

async function restart(ctx: ApplyContext, action: Action, service: ServiceManifest): Promise<Step> {
  const c = action.container!;
  ctx.emit(service.name, action.replica, 'starting', `starting ${c.name}`);
  const since = ctx.wakeups?.cursor(c.id);
  await ctx.runtime.startContainer(c.id);
  const failure = await waitReady(ctx.runtime, c.id, service.spec, ctx.ready, ctx.wakeups, ctx.ready.now(), since);
  if (!failure) return { outcome: 'ok', message: `restarted ${c.name}` };
  return { outcome: 'failed', message: `restarted ${c.name}, but it ${failure}`, logTail: await tail(ctx, c.id) };
}

/** Carries out one action. Throws only for failures outside a rollout's own rollback (e.g. the engine went away). */
export async function runAction(ctx: ApplyContext, action: Action): Promise<ActionResult> {
  const oldGraceMs = action.graceMs;
  const began = Date.now();
  const service = ctx.environment.services.find((s) => s.name === action.service);
  const finish = (step: Step): ActionResult => ({ action, ...step, durationMs: Date.now() - began });
  try {
    if (action.kind === 'remove') {
      ctx.emit(action.service, action.replica, 'removing', `removing ${action.container!.name}: ${action.reasons[0]}`);
      await retire(ctx, action.container!.id, oldGraceMs ?? 10_000);
      return finish({ outcome: 'ok', message: `removed ${action.container!.name}` });
    }
    if (!service) throw new DeployError(`no manifest for service ${action.service}`);
    if (action.job) return finish(await job(ctx, action, service));
    if (action.kind === 'create') return finish(await create(ctx, action, service));
    if (action.kind === 'restart' && action.restartMode === 'start') return finish(await restart(ctx, action, service));
    if (action.kind === 'replace' || action.kind === 'restart') {
      await ensureImage(ctx, service, action.replica);
      await ensureEdgeReady(ctx, service, action.edge);
      const step = action.order === 'stop-first' ? await stopFirst(ctx, action, service, oldGraceMs ?? service.spec.stopGraceMs) : await startFirst(ctx, action, service);
      return finish(step);
    }
    return finish({ outcome: 'ok', message: action.reasons.join('; ') });
  } catch (error) {
    return finish({ outcome: 'failed', message: errorText(error), transient: isStagecoachError(error) && error.transient });
  }
}
