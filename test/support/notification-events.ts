import type { NotificationEvent, NotifiedTest } from '../../src/notify/events.js';
import { shortRevision } from '../../src/notify/events.js';

/**
 * Builders of notification events for tests: plain data in, one event out.
 * The daemon itself makes its events from stored decisions (src/notify/from-store.ts).
 */

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const asServices = (images: Record<string, string>) => Object.entries(images).map(([name, image]) => ({ name, image }));

/** Services updated by a rollout that converged or partly converged (those whose update went through). */
export function deployEvent(input: { environment: string; revision: string; at: string; deployed: Record<string, string> }): NotificationEvent {
  const services = asServices(input.deployed);
  return {
    kind: 'deploy',
    environment: input.environment,
    revision: input.revision,
    at: input.at,
    summary: `${input.environment}: deployed ${services.map((s) => `${s.name} ${s.image}`).join(', ')} at ${shortRevision(input.revision)}`,
    services,
    reasons: [],
  };
}

/** Updates that failed and were rolled back: what was wanted, and why each failed. */
export function rollbackEvent(input: { environment: string; revision: string; at: string; wanted: Record<string, string>; reasons: string[] }): NotificationEvent {
  const services = asServices(input.wanted);
  return {
    kind: 'rollback',
    environment: input.environment,
    revision: input.revision,
    at: input.at,
    summary: `${input.environment}: rolled back ${plural(services.length, 'service')} (${services.map((s) => s.name).join(', ')}) at ${shortRevision(input.revision)}`,
    services,
    reasons: input.reasons,
  };
}

export function verificationEvent(input: { environment: string; revision: string; at: string; images: Record<string, string>; tests: NotifiedTest[]; markerCommit: string }): NotificationEvent {
  const passed = input.tests.filter((t) => t.result === 'passed').length;
  const ok = passed === input.tests.length;
  return {
    kind: ok ? 'verification.passed' : 'verification.failed',
    environment: input.environment,
    revision: input.revision,
    at: input.at,
    summary: `${input.environment}: ${ok ? 'passed' : 'failed'} ${passed}/${input.tests.length} tests at ${shortRevision(input.revision)}`,
    services: asServices(input.images),
    reasons: input.tests.filter((t) => t.result !== 'passed').map((t) => `${t.name}: ${t.message}`),
    tests: input.tests.map((t) => ({ name: t.name, result: t.result, message: t.message })),
    marker: { commit: input.markerCommit },
  };
}

export function blockEvent(input: { environment: string; revision: string; at: string; from: string; images: Record<string, string>; reasons: string[] }): NotificationEvent {
  return {
    kind: 'block',
    environment: input.environment,
    revision: input.revision,
    at: input.at,
    summary: `${input.environment}: revision ${shortRevision(input.revision)} blocked by the gate from ${input.from} (${plural(input.reasons.length, 'unverified image')})`,
    services: asServices(input.images),
    reasons: input.reasons,
  };
}

/** A promotion proposed on a branch for a person to merge, or committed directly. */
export function proposalEvent(input: { environment: string; from: string; revision: string; at: string; outcome: 'proposed' | 'committed'; ref: string; commit: string | null; changed: { service: string; to: string }[] }): NotificationEvent {
  const services = input.changed.map((c) => ({ name: c.service, image: c.to }));
  const what = services.map((s) => `${s.name} ${s.image}`).join(', ');
  return {
    kind: 'proposal',
    environment: input.environment,
    revision: input.revision,
    at: input.at,
    summary: input.outcome === 'proposed' ? `${input.environment}: proposed ${what} on ${input.ref} (verified in ${input.from})` : `${input.environment}: committed ${what} (verified in ${input.from})`,
    services,
    reasons: [],
    proposal: { branch: input.ref, commit: input.commit, from: input.from },
  };
}
