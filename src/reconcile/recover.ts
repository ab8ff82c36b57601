import { baseName } from '../runtime/labels.js';
import type { ObservedContainer, RecoveryStep } from './types.js';
import { compareText } from '../text-order.js';

const ref = (c: ObservedContainer) => ({ id: c.id, name: c.name });

/** A container a rollout can hand over to: running and not failing its healthcheck. */
function serving(c: ObservedContainer): boolean {
  return c.state === 'running' && c.health !== 'unhealthy' && c.health !== 'starting';
}

function groupKey(c: ObservedContainer): string {
  return `${c.service}\0${c.replica}`;
}

/**
 * Finds rollouts a crash interrupted (containers in the candidate or previous
 * slot) and decides, per replica, to finish or undo each, so that afterwards
 * every replica has exactly one container in the current slot, or none if it
 * had none. Pure: returns the steps and the state they lead to.
 */
export function planRecovery(containers: readonly ObservedContainer[]): { steps: RecoveryStep[]; after: ObservedContainer[] } {
  const groups = new Map<string, ObservedContainer[]>();
  for (const c of containers) groups.set(groupKey(c), [...(groups.get(groupKey(c)) ?? []), c]);
  const steps: RecoveryStep[] = [];
  const after: ObservedContainer[] = [];
  for (const group of groups.values()) {
    const currents = group.filter((c) => c.slot === 'current');
    const candidate = group.find((c) => c.slot === 'candidate');
    const previous = group.find((c) => c.slot === 'previous');
    const { service, replica } = group[0]!;
    const step = (kind: RecoveryStep['kind'], c: ObservedContainer, reason: string, extra: Partial<RecoveryStep> = {}) =>
      steps.push({ kind, service, replica, container: ref(c), reason, ...extra });

    // Extra copies in the current slot (two writers raced): keep the best one.
    const ranked = [...currents].sort((a, b) => Number(serving(b)) - Number(serving(a)) || compareText(a.name, b.name));
    let current = ranked[0];
    for (const extra of ranked.slice(1)) step('remove-duplicate', extra, `a second container for replica ${replica} (${extra.name}); keeping ${current!.name}`);

    for (const c of group.filter((x) => x.slot === 'candidate' && x !== candidate)) step('remove-candidate', c, 'a stray candidate container');
    for (const c of group.filter((x) => x.slot === 'previous' && x !== previous)) step('remove-candidate', c, 'a stray previous container');

    if (previous) {
      if (current && current.health === 'healthy') {
        step('remove-previous', previous, `interrupted stop-first update: ${current.name} is healthy, so the update is finished by removing the previous container`);
      } else {
        step('restore-previous', previous, `interrupted stop-first update: the new container was not proven healthy, so the previous one is restored`, {
          rename: baseName(previous.name),
          ...(current ? { removeFirst: ref(current) } : {}),
        });
        current = { ...previous, name: baseName(previous.name), slot: 'current', state: 'running' };
      }
    }
    if (candidate) {
      if (current) {
        step('remove-candidate', candidate, `interrupted start-first update: ${current.name} kept serving, so the unproven candidate is removed`);
      } else if (serving(candidate)) {
        step('promote-candidate', candidate, 'interrupted start-first update after the old container was retired: the running candidate takes its place', {
          rename: baseName(candidate.name),
        });
        current = { ...candidate, name: baseName(candidate.name), slot: 'current' };
      } else {
        step('remove-candidate', candidate, `interrupted update: the candidate is ${candidate.state}${candidate.health !== 'none' ? ` (${candidate.health})` : ''}, so it is removed`);
      }
    }
    if (current) after.push(current);
  }
  return { steps, after };
}
