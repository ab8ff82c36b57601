import type { PushOutcome } from '../git/ports.js';
import { formatProblem } from '../manifest/problem.js';
import type { LoadedEnvironment } from '../manifest/types.js';
import { gateReasons } from '../promotion/gate.js';
import type { MarkerIndex } from '../promotion/marker-index.js';
import type { ProposalResult } from '../promotion/propose.js';
import { revisionLabel } from '../reconcile/format.js';
import type { DeployResult } from './deploy-step.js';
import type { EnvironmentAt } from './desired-state.js';
import type { PendingMarker } from './promotion-steps.js';
import { describeResults } from './promotion-steps.js';
import type { EnvironmentPatch } from './status-store.js';
import type { EnvironmentStatus } from './status.js';

// The steps of one environment's cycle (observe → plan → apply → verify →
// mark → promote) as functions from what happened to a status patch: the
// daemon applies the patches to the store, its one writer.

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** An environment whose folder did not load: it keeps its last good revision. */
export function invalidPatch(at: EnvironmentAt, revision: string, current: EnvironmentStatus | undefined, now: string): EnvironmentPatch {
  const problems = (at.load.problems.length ? at.load.problems : at.problems).map(formatProblem);
  const lastGood = current?.revision.lastGood;
  const keeping = lastGood ? `keeping revision ${revisionLabel(lastGood)}` : 'nothing deployed yet';
  const reason = `revision ${revisionLabel(revision)} is invalid (${plural(problems.length, 'problem')}); ${keeping}`;
  return { state: 'invalid', errors: problems, revision: { desired: revision }, decisions: [{ at: now, kind: 'invalid', revision, reason }] };
}

/** The commit an environment's desired state comes from is not signed by a trusted key (trust.requireSignedHead): nothing of it deploys. */
export function unsignedPatch(reason: string, revision: string, current: EnvironmentStatus | undefined, now: string): EnvironmentPatch {
  const lastGood = current?.revision.lastGood;
  const keeping = lastGood ? `keeping revision ${revisionLabel(lastGood)}` : 'nothing deployed yet';
  return { state: 'invalid', errors: [reason], revision: { desired: revision }, decisions: [{ at: now, kind: 'invalid', revision, reason: `${reason}; ${keeping}` }] };
}

/** The promotion gate: blocked (and why) when an image has no passing marker upstream. */
export function gateStep(env: LoadedEnvironment, revision: string, current: EnvironmentStatus | undefined, index: MarkerIndex, digests: Record<string, string | null>, now: string): { blocked: boolean; patch: EnvironmentPatch } {
  const upstream = env.environment.promotion.from;
  if (!upstream) return { blocked: false, patch: { gate: null, blocked: [] } };
  const reasons = gateReasons(env, index, digests);
  const gate = { from: upstream, state: reasons.length ? ('blocked' as const) : ('open' as const) };
  if (reasons.length === 0) return { blocked: false, patch: { gate, blocked: [] } };
  const changed = reasons.join('\n') !== (current?.blocked ?? []).join('\n');
  const applied = current?.revision.applied;
  const keeping = applied ? `keeps running revision ${revisionLabel(applied)}` : 'nothing deployed yet';
  const reason = `revision ${revisionLabel(revision)} blocked by the gate from ${upstream}; ${keeping}: ${reasons.join('; ')}`;
  return { blocked: true, patch: { gate, blocked: reasons, state: 'blocked', revision: { desired: revision }, decisions: changed ? [{ at: now, kind: 'block', revision, reason }] : [] } };
}

export function deployPatch(result: DeployResult, revision: string, gateHolds = false): EnvironmentPatch {
  return {
    // A drift check at the last good revision does not lift a gate that holds back the newest one.
    state: gateHolds && result.state === 'synced' ? 'blocked' : result.state,
    services: result.services,
    ...(result.target ? { target: result.target } : {}),
    errors: result.errors,
    decisions: result.decisions,
    ...(result.lastReconcile ? { lastReconcile: result.lastReconcile } : {}),
    ...(result.applied ? { revision: { applied: revision } } : {}),
    ...(result.transient.length === 0 ? { retryingInMs: null, retryAt: null } : {}),
  };
}

/** The engine could not be reached at all. */
export function unreachablePatch(message: string, revision: string, now: string): EnvironmentPatch {
  return { state: 'unreachable', errors: [message], decisions: [{ at: now, kind: 'error', revision, reason: `${message}; will retry` }] };
}

export function retryPatch(current: EnvironmentStatus | undefined, inMs: number, at: Date): EnvironmentPatch {
  const note = `retrying in ${Math.round(inMs / 1000)} s`;
  const errors = (current?.errors ?? []).filter((e) => !/^retrying in \d+ s$/.test(e));
  return { retryingInMs: inMs, retryAt: new Date(at.getTime() + inMs).toISOString(), errors: [...errors, note] };
}

export function markerPatch(pending: PendingMarker, push: PushOutcome, now: string): EnvironmentPatch {
  const { marker, results, revision } = pending;
  const failures = results.filter((r) => r.result !== 'passed').map((r) => `; ${r.name}: ${r.message}`).join('');
  const reason = `${describeResults(results)}; marker ${push.commit.slice(0, 7)} pushed (${plural(push.attempts, 'attempt')})${failures}`;
  return {
    lastMarker: {
      result: marker.result,
      revision,
      at: marker.finishedAt,
      commit: push.commit,
      tests: describeResults(results),
      images: Object.entries(marker.services).map(([service, s]) => ({ service, image: s.image })),
      results: results.map((r) => ({ name: r.name, result: r.result, message: r.message })),
    },
    decisions: [{ at: now, kind: 'verify', revision, reason, result: marker.result }],
  };
}

export function unpushedPatch(pending: PendingMarker, error: unknown, now: string): EnvironmentPatch {
  const reason = `marker of ${pending.env.name} at ${revisionLabel(pending.revision)} (${describeResults(pending.results)}) not pushed yet: ${(error as Error).message}; kept, pushed again at the next cycle`;
  return { decisions: [{ at: now, kind: 'error', revision: pending.revision, reason }] };
}

export function verifyFailedPatch(env: string, revision: string, error: unknown, current: EnvironmentStatus | undefined, now: string): EnvironmentPatch {
  const message = `verification of ${env} at ${revisionLabel(revision)} could not complete: ${(error as Error).message}`;
  return { errors: [...(current?.errors ?? []), message], decisions: [{ at: now, kind: 'error', revision, reason: message }] };
}

export function proposalPatch(from: string, to: string, revision: string, result: ProposalResult, now: string): EnvironmentPatch {
  const images = result.changed.map((c) => `${c.service}=${c.to}`);
  const reason = result.outcome === 'up-to-date' ? `${to} already runs or proposes what ${from} verified` : `${result.outcome} ${images.join(', ')} on ${result.ref} (verified in ${from} at ${revisionLabel(revision)})`;
  return {
    ...(result.outcome === 'proposed' ? { proposals: [{ branch: result.ref, commit: result.commit ?? '', images, at: now }] } : {}),
    decisions: [{ at: now, kind: 'promote', revision, reason }],
  };
}

/** True when this environment's latest marker does not describe the images it runs (first start, or a marker that never landed). */
export function unverified(env: LoadedEnvironment, index: MarkerIndex): boolean {
  const latest = index.latest(env.name);
  if (!latest) return true;
  const marked = new Map(latest.images.map((i) => [i.service, i.image]));
  return env.services.some((s) => marked.get(s.name) !== s.spec.image) || marked.size !== env.services.length;
}

/**
 * What git says about an environment's promotions, so status survives a
 * restart: the latest marker from the index, and proposals not yet merged
 * (dropped once the environment runs the proposed images).
 */
export function promotionsPatch(current: EnvironmentStatus | undefined, index: MarkerIndex, name: string, branches: { branch: string; commit: string }[] | undefined): EnvironmentPatch {
  const patch: EnvironmentPatch = {};
  let proposals = current?.proposals ?? [];
  const open = branches?.find((b) => b.branch === `stagecoach/promote/${name}`);
  if (open && proposals.length === 0) proposals = [{ branch: open.branch, commit: open.commit, images: [], at: '' }];
  const latest = index.latest(name);
  const last = current?.lastMarker;
  if (latest && (!last || last.commit !== latest.commit)) patch.lastMarker = { result: latest.result, revision: latest.revision, at: latest.at, commit: latest.commit, tests: latest.result, images: latest.images.map((i) => ({ service: i.service, image: i.image })) };
  const running = new Set((current?.services ?? []).map((s) => `${s.name}=${s.image}`));
  patch.proposals = proposals.filter((p) => p.images.length === 0 || !p.images.every((i) => running.has(i)));
  return patch;
}
