import type { LoadedEnvironment, ServiceManifest } from '../manifest/types.js';
import { labels } from '../runtime/labels.js';
import type { ContainerSummary } from '../runtime/types.js';
import type { Action, ObservedContainer, RecoveryStep } from '../reconcile/types.js';
import type { EdgeColor } from './edge-spec.js';
import { edgeColors, edgeContainerName, edgeDecision, edgeHash, edgeLabels, otherColor } from './edge-spec.js';

/** A service's proxy container as the list call shows it. */
export interface ObservedEdge {
  id: string;
  name: string;
  service: string;
  hash: string;
  state: ContainerSummary['state'];
}

export const edgeActionKinds = ['activate', 'create', 'start', 'recreate', 'remove'] as const;
export type EdgeActionKind = (typeof edgeActionKinds)[number];

/** When apply runs an edge action, relative to recovery and to the service actions. */
export const edgeMoments = ['before-recovery', 'after-recovery', 'before-services', 'after-services'] as const;
export type EdgeMoment = (typeof edgeMoments)[number];

export interface EdgeAction {
  kind: EdgeActionKind;
  service: string;
  at: EdgeMoment;
  /** The proxy acted on (activate, start, recreate, remove). */
  container?: { id: string; name: string };
  /** The colour that must serve afterwards (activate, create, recreate). */
  color?: EdgeColor;
  reasons: string[];
}

export function edgeColorOf(containerLabels: Record<string, string>): EdgeColor | undefined {
  const value = containerLabels[edgeLabels.color];
  return edgeColors.find((c) => c === value);
}

/** The proxies among an environment's listed containers (no io.stagecoach.service label: never taken for a service). */
export function observeEdges(listed: readonly ContainerSummary[]): ObservedEdge[] {
  return listed
    .filter((c) => c.labels[edgeLabels.edgeFor] && !c.labels[labels.service])
    .map((c) => ({ id: c.id, name: c.name, service: c.labels[edgeLabels.edgeFor]!, hash: c.labels[edgeLabels.edgeHash] ?? '', state: c.state }));
}

const forcedReason = 'stop-first: a fixed host port is published';

/**
 * Adjusts one replica's action for the edge proxy. Pure. A service behind its
 * proxy is replaced start-first (unless stop-first was asked for) and its new
 * container takes the other colour; a container that still publishes its
 * ports itself moves behind the proxy once, stop-first (the host port changes
 * hands); one that leaves the proxy (edge: off, UDP) goes back the same way.
 */
export function edgeAction(action: Action, service: ServiceManifest, c: ObservedContainer | undefined, selfHeal: boolean): Action {
  const decision = edgeDecision(service);
  const reasons = action.reasons.filter((r) => r !== forcedReason);
  const ownOrder = service.updateOrderForced ? 'start-first' : service.updateOrder;
  if (!decision.proxied) {
    if (!c?.edgeColor || action.kind === 'remove') return decision.reason && action.order ? { ...action, reasons: [...reasons, decision.reason] } : action;
    if (!selfHeal && action.kind === 'noop') return action;
    const why = decision.reason ? `leaves the edge proxy (${decision.reason.replace(/^stop-first: /, '')})` : 'leaves the edge proxy: no fixed host port is published any more';
    return { ...action, kind: 'replace', graceMs: c.spec?.stopGraceMs, fromImage: c.image, order: 'stop-first', reasons: [...reasons.filter((r) => r !== 'in sync'), `${why}; stop-first`] };
  }
  if (action.kind === 'create') return { ...action, edge: { color: 'blue' }, reasons: [...reasons, 'behind the edge proxy, which publishes its ports'] };
  if (!c || action.kind === 'remove') return action;
  if (!c.edgeColor) {
    if (!selfHeal && action.kind === 'noop') return action;
    const moving = 'moves behind the edge proxy: the host port is handed over once (stop-first), later updates switch without downtime';
    return { ...action, kind: 'replace', container: { id: c.id, name: c.name }, graceMs: c.spec?.stopGraceMs, fromImage: c.image, order: 'stop-first', edge: { color: 'blue' }, reasons: [...reasons.filter((r) => r !== 'in sync'), moving] };
  }
  const recreates = action.kind === 'replace' || (action.kind === 'restart' && action.restartMode === 'recreate');
  if (!recreates) return action;
  const how = ownOrder === 'start-first' ? 'start-first behind the edge proxy: it switches to the new container once healthy and drains the old one' : 'stop-first (asked for), behind the edge proxy';
  return { ...action, order: ownOrder, edge: { color: otherColor(c.edgeColor), from: c.edgeColor }, reasons: [...reasons, how] };
}

/**
 * What the proxies need beyond the service actions: pointing a proxy back at
 * the container a recovery keeps, healing a missing, stopped or outdated
 * proxy of a service that is otherwise in sync, and removing proxies nothing
 * needs. Pure.
 */
export function planEdges(desired: LoadedEnvironment, after: readonly ObservedContainer[], recovery: readonly RecoveryStep[], edges: readonly ObservedEdge[], actions: readonly Action[]): EdgeAction[] {
  const out: EdgeAction[] = [];
  const { sync } = desired.environment;
  for (const service of desired.services) {
    const decision = edgeDecision(service);
    const proxy = edges.find((e) => e.service === service.name);
    const ref = proxy && { id: proxy.id, name: proxy.name };
    if (!decision.proxied) {
      if (ref) out.push({ kind: 'remove', service: service.name, at: 'before-services', container: ref, reasons: [decision.reason ? `not needed: ${decision.reason.replace(/^stop-first: /, '')}` : 'not needed: no fixed host port is published'] });
      continue;
    }
    const current = after.find((c) => c.service === service.name && c.replica === 1);
    const color = current?.edgeColor;
    const steps = recovery.filter((r) => r.service === service.name);
    if (ref && color && steps.length > 0) {
      const at = steps.some((s) => s.kind === 'restore-previous') ? 'after-recovery' : 'before-recovery';
      out.push({ kind: 'activate', service: service.name, at, container: ref, color, reasons: [`an interrupted switch: the proxy serves ${current.name} (${color}) again`] });
    }
    const acting = actions.some((a) => a.service === service.name && a.kind !== 'noop' && a.kind !== 'remove');
    if (acting || !color || !sync.selfHeal) continue;
    const wanted = edgeHash(decision.spec);
    if (!proxy) out.push({ kind: 'create', service: service.name, at: 'after-services', color, reasons: [`missing: no edge proxy ${edgeContainerName(desired.name, service.name)}`] });
    else if (proxy.hash !== wanted) out.push({ kind: 'recreate', service: service.name, at: 'after-services', container: ref, color, reasons: ['edge proxy outdated (ports, mode or image changed): recreated, a short interruption'] });
    else if (proxy.state !== 'running') out.push({ kind: 'start', service: service.name, at: 'after-services', container: ref, color, reasons: [`edge proxy ${proxy.state}`] });
  }
  const names = new Set(desired.services.map((s) => s.name));
  for (const proxy of edges.filter((e) => !names.has(e.service))) {
    if (!sync.prune) continue;
    out.push({ kind: 'remove', service: proxy.service, at: 'before-services', container: { id: proxy.id, name: proxy.name }, reasons: ['no manifest names this service'] });
  }
  return out;
}
