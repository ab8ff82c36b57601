import type { ServiceManifest } from '../manifest/types.js';
import { labels } from '../runtime/labels.js';
import type { ApplyContext } from '../reconcile/apply-context.js';
import type { Action } from '../reconcile/types.js';
import { activate, EdgeControl } from './edge-control.js';
import { edgeCreate } from './edge-container.js';
import { ensureEdgeImage } from './edge-image.js';
import type { EdgeAction } from './edge-plan.js';
import type { EdgeColor, EdgeSpec } from './edge-spec.js';
import { edgeDecision, edgeHash, edgeLabels } from './edge-spec.js';

export interface EdgeResult {
  action: EdgeAction;
  ok: boolean;
  message: string;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function findProxy(ctx: ApplyContext, service: string) {
  const found = await ctx.runtime.listContainers({ [labels.managed]: 'true', [labels.environment]: ctx.environment.name, [edgeLabels.edgeFor]: service });
  return found[0];
}

async function waitRunning(ctx: ApplyContext, id: string, name: string): Promise<void> {
  const deadline = ctx.ready.now() + 10_000;
  for (;;) {
    const d = await ctx.runtime.inspectContainer(id);
    if (d?.state === 'running') return;
    if (!d || d.state === 'exited' || d.state === 'dead' || ctx.ready.now() >= deadline) {
      const tail = await ctx.runtime.logsTail(id, 5).catch(() => '');
      throw new Error(`edge proxy ${name} is not running (${d?.state ?? 'gone'}): ${tail.trim()}`);
    }
    await ctx.ready.sleep(100);
  }
}

/** The proxy image on the target engine (pulled, built or copied there, saying why); a DeployError naming host and remedy otherwise. */
async function proxyImage(ctx: ApplyContext, spec: EdgeSpec): Promise<void> {
  await ensureEdgeImage(ctx.runtime, spec.image, ctx.edgeImages, (message) => {
    ctx.log.info({ service: spec.service, image: spec.image, host: ctx.runtime.host }, message);
    ctx.emit(spec.service, undefined, 'pulling', message);
  });
}

/**
 * Checked before a rollout that needs the proxy touches anything: a service
 * whose proxy image cannot reach its engine fails with nothing changed,
 * instead of after its new container started (or, stop-first, after the old
 * one stopped).
 */
export async function ensureEdgeReady(ctx: ApplyContext, service: ServiceManifest, edge: Action['edge']): Promise<void> {
  if (!edge) return;
  const decision = edgeDecision(service);
  if (decision.proxied) await proxyImage(ctx, decision.spec);
}

/** The service's proxy, running with the current spec: started, created, or recreated (removing the old first frees its host ports). */
async function ensureProxy(ctx: ApplyContext, spec: EdgeSpec, color: EdgeColor): Promise<EdgeControl> {
  const existing = await findProxy(ctx, spec.service);
  if (existing && existing.labels[edgeLabels.edgeHash] === edgeHash(spec)) {
    if (existing.state !== 'running') {
      ctx.emit(spec.service, undefined, 'starting', `starting edge proxy ${existing.name}`);
      await ctx.runtime.startContainer(existing.id);
      await waitRunning(ctx, existing.id, existing.name);
    }
    return new EdgeControl(ctx.runtime, existing.id, existing.name);
  }
  if (existing) {
    ctx.emit(spec.service, undefined, 'removing', `removing outdated edge proxy ${existing.name}`);
    await ctx.runtime.removeContainer(existing.id);
  }
  await proxyImage(ctx, spec);
  const create = edgeCreate(ctx.environment.name, spec, color, ctx.revision);
  ctx.emit(spec.service, undefined, 'creating', `creating edge proxy ${create.name} on ${create.ports.map((p) => `${p.hostIp || '*'}:${p.published}`).join(', ')}`);
  const id = await ctx.runtime.createContainer(create);
  try {
    await ctx.runtime.startContainer(id);
    await waitRunning(ctx, id, create.name);
  } catch (error) {
    await ctx.runtime.removeContainer(id).catch(() => undefined);
    throw error;
  }
  return new EdgeControl(ctx.runtime, id, create.name);
}

/** Points the service's proxy at `color` (creating the proxy if needed), draining the other colour. */
export async function serveColor(ctx: ApplyContext, service: ServiceManifest, color: EdgeColor): Promise<{ leftOpen: number }> {
  const decision = edgeDecision(service);
  if (!decision.proxied) throw new Error(`${service.name} is not behind an edge proxy`);
  const control = await ensureProxy(ctx, decision.spec, color);
  ctx.emit(service.name, 1, 'switching', `edge proxy: switching ${service.name} to ${color}, draining the other`);
  return activate(control, decision.spec, color, ctx.ready, {
    afterConfig: () => ctx.failpoint('after-edge-config', service.name),
    afterSwitch: () => ctx.failpoint('after-edge-switch', service.name),
  });
}

/**
 * The rollout hook: once the new container is healthy, the proxy switches to
 * it and the old one drains. On failure the proxy is pointed back at the old
 * colour (best effort) and the reason is returned, so the rollout rolls back.
 */
export async function edgeHandover(ctx: ApplyContext, service: ServiceManifest, edge: Action['edge']): Promise<string | undefined> {
  if (!edge) return undefined;
  const oldColor = edge.from;
  try {
    const { leftOpen } = await serveColor(ctx, service, edge.color);
    if (leftOpen > 0) ctx.log.warn({ service: service.name, leftOpen }, 'edge proxy: connections still open on the old container after the drain period');
    return undefined;
  } catch (error) {
    if (oldColor) await serveColor(ctx, service, oldColor).catch(() => undefined);
    return `edge proxy: ${errorText(error)}`;
  }
}

/** After a stop-first rollback restarted the old container: the proxy serves its colour again (best effort, logged). */
export async function edgeRestore(ctx: ApplyContext, service: ServiceManifest, edge: Action['edge']): Promise<void> {
  if (!edge?.from) return;
  await serveColor(ctx, service, edge.from).catch((error: unknown) => ctx.log.error({ service: service.name, err: error }, 'edge proxy: cannot point back at the restored container'));
}

/** Runs the edge actions planned for one moment of apply. */
export async function runEdgeActions(ctx: ApplyContext, edges: readonly EdgeAction[] | undefined, at: EdgeAction['at']): Promise<EdgeResult[]> {
  const results: EdgeResult[] = [];
  for (const action of (edges ?? []).filter((e) => e.at === at)) {
    const service = ctx.environment.services.find((s) => s.name === action.service);
    try {
      if (action.kind === 'remove') {
        ctx.emit(action.service, undefined, 'removing', `removing edge proxy ${action.container!.name}: ${action.reasons[0]}`);
        await ctx.runtime.stopContainer(action.container!.id, 10_000);
        await ctx.runtime.removeContainer(action.container!.id);
        results.push({ action, ok: true, message: `removed edge proxy ${action.container!.name}` });
        continue;
      }
      if (!service || !action.color) throw new Error(`no manifest for service ${action.service}`);
      await serveColor(ctx, service, action.color);
      results.push({ action, ok: true, message: `edge proxy of ${action.service} serves ${action.color} (${action.kind})` });
    } catch (error) {
      ctx.log.error({ service: action.service, kind: action.kind, err: error }, 'edge proxy action failed');
      results.push({ action, ok: false, message: `edge proxy ${action.kind} failed: ${errorText(error)}` });
    }
  }
  return results;
}
