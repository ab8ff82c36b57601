import type { NotificationEvent } from './events.js';
import { shortRevision } from './events.js';

/**
 * What a status store tells its listeners after each decision (the shape of
 * the daemon's StatusStore events, structurally): the decision and the
 * environment's status right after it.
 */
export interface StoreDecisionEvent {
  kind: string;
  environment: string;
  decision: { at: string; kind: string; revision: string | null; service?: string; reason: string; result?: 'passed' | 'failed' };
  status: {
    services: readonly { name: string; image: string | null; desiredImage: string }[];
    blocked: readonly string[];
    gate: { from: string } | null;
    lastMarker: { result: string; commit: string; tests: string; images?: readonly { service: string; image: string }[]; results?: readonly { name: string; result: string; message: string }[] } | null;
    proposals: readonly { branch: string; commit: string; images: readonly string[]; at: string }[];
  };
}

const wanted = (status: StoreDecisionEvent['status'], service?: string) =>
  status.services.filter((s) => service === undefined || s.name === service).map((s) => ({ name: s.name, image: s.desiredImage }));

/**
 * The notification for a stored decision, or null for decisions nobody is
 * told about (heal, skip, invalid, …). One deploy or rollback per service,
 * as the daemon decides them.
 */
export function notificationFromDecision(e: StoreDecisionEvent): NotificationEvent | null {
  const { decision: d, status, environment } = e;
  const base = { environment, revision: d.revision, at: d.at };
  switch (d.kind) {
    case 'deploy':
      return { ...base, kind: 'deploy', summary: `${environment}: deploying ${d.service ?? 'services'} at ${shortRevision(d.revision)}`, services: wanted(status, d.service), reasons: [d.reason] };
    case 'rollback':
      return { ...base, kind: 'rollback', summary: `${environment}: rolled back ${d.service ?? 'an update'} at ${shortRevision(d.revision)}`, services: wanted(status, d.service), reasons: [d.reason] };
    case 'verify': {
      const marker = status.lastMarker;
      const passed = (d.result ?? marker?.result) === 'passed';
      const tests = marker?.results?.map((t) => ({ ...t }));
      return {
        ...base,
        kind: passed ? 'verification.passed' : 'verification.failed',
        summary: `${environment}: ${marker?.tests ?? (passed ? 'passed' : 'failed')} at ${shortRevision(d.revision)}`,
        services: marker?.images ? marker.images.map((i) => ({ name: i.service, image: i.image })) : wanted(status),
        reasons: tests ? tests.filter((t) => t.result !== 'passed').map((t) => `${t.name}: ${t.message}`) : passed ? [] : [d.reason],
        ...(tests ? { tests } : {}),
        ...(marker ? { marker: { commit: marker.commit } } : {}),
      };
    }
    case 'block':
      return {
        ...base,
        kind: 'block',
        summary: `${environment}: revision ${shortRevision(d.revision)} blocked by the gate${status.gate ? ` from ${status.gate.from}` : ''}`,
        services: wanted(status),
        reasons: [...status.blocked],
      };
    case 'promote': {
      // Only a proposal stored with this decision is one (not "already runs it").
      const proposal = status.proposals.find((p) => p.at === d.at);
      if (!proposal) return null;
      const services = proposal.images.map((i) => ({ name: i.slice(0, i.indexOf('=')), image: i.slice(i.indexOf('=') + 1) }));
      return {
        ...base,
        kind: 'proposal',
        summary: `${environment}: proposed ${services.map((s) => `${s.name} ${s.image}`).join(', ')} on ${proposal.branch}`,
        services,
        reasons: [d.reason],
        proposal: { branch: proposal.branch, commit: proposal.commit || null, from: status.gate?.from ?? '' },
      };
    }
    default:
      return null;
  }
}
