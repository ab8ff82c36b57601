import { shortHash } from '../manifest/hash.js';
import type { ApplyResult } from './apply.js';
import type { Action, ActionKind, Plan } from './types.js';
import { pendingChanges } from './types.js';
import { formatEdgeActions, formatEdgeResults } from '../proxy/edge-format.js';

const symbols: Record<ActionKind, string> = { create: '+', replace: '~', restart: '!', remove: '-', noop: '=' };

export function revisionLabel(revision: string): string {
  return /^[0-9a-f]{40}/.test(revision) ? revision.slice(0, 7) + revision.slice(40) : shortHash(revision);
}

function subject(a: Action): string {
  return a.replica !== undefined && a.replica > 1 ? `${a.service}#${a.replica}` : a.service;
}

function headline(a: Action): string {
  const image = a.kind === 'replace' && a.fromImage && a.fromImage !== a.image ? `${a.fromImage} → ${a.image}` : a.image;
  const how = a.kind === 'replace' || (a.kind === 'restart' && a.restartMode === 'recreate') ? `  (${a.order}${a.kind === 'restart' ? ', recreate' : ''})` : '';
  return `  ${symbols[a.kind]} ${a.kind.padEnd(8)} ${subject(a).padEnd(16)} ${a.kind === 'remove' ? a.container?.name : image}${how}`;
}

/** The plan as a reviewer reads a diff: one line per service, reasons and changed fields indented. Secrets appear by name only. */
export function formatPlan(plan: Plan): string {
  const lines = [`plan for ${plan.environment} at ${revisionLabel(plan.revision)}`];
  for (const r of plan.recovery) lines.push(`  ↺ recover  ${`${r.service}#${r.replica}`.padEnd(16)} ${r.container.name}`, `      ${r.reason}`);
  const changes = pendingChanges(plan);
  const steps = [...new Set(changes.map((a) => a.step))].sort((a, b) => a - b);
  for (const step of steps) {
    if (steps.length > 1) lines.push(`step ${step}`);
    for (const a of changes.filter((x) => x.step === step)) {
      lines.push(headline(a));
      for (const reason of a.reasons) lines.push(`      ${reason}`);
      for (const c of a.changes ?? []) if (c.field !== 'image') lines.push(`      ${c.field}: ${c.from} → ${c.to}`);
    }
  }
  lines.push(...formatEdgeActions(plan.edges));
  const noops = plan.actions.filter((a) => a.kind === 'noop');
  for (const n of plan.notes ?? []) lines.push(`  note ${n.service}: ${n.message}`);
  for (const a of noops) lines.push(`  = ${'noop'.padEnd(8)} ${subject(a).padEnd(16)} ${a.reasons.join('; ')}`);
  const counts = (['create', 'replace', 'restart', 'remove'] as const)
    .map((k) => [k, changes.filter((a) => a.kind === k).length] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} to ${k}`);
  if (plan.edges?.length) counts.push(`${plan.edges.length} edge proxy step${plan.edges.length === 1 ? '' : 's'}`);
  const summary = counts.length === 0 && plan.recovery.length === 0 ? 'in sync' : [...counts, ...(plan.recovery.length ? [`${plan.recovery.length} to recover`] : [])].join(', ');
  lines.push(`${summary}; ${noops.length} unchanged`);
  return lines.join('\n');
}

export function formatApplyResult(result: ApplyResult, durationMs: number): string {
  const lines: string[] = [];
  for (const r of result.recovery) lines.push(`  ↺ ${r.step.service}: ${r.message}${r.ok ? '' : ' (FAILED)'}`);
  for (const r of result.results) {
    const mark = r.outcome === 'ok' ? '✓' : r.outcome === 'skipped' ? '·' : '✗';
    lines.push(`  ${mark} ${subject(r.action)}: ${r.outcome === 'ok' ? r.message : `${r.outcome}: ${r.message}`}`);
    if (r.logTail) for (const line of r.logTail.trimEnd().split('\n').slice(-20)) lines.push(`      | ${line}`);
  }
  lines.push(...formatEdgeResults(result.edges));
  const done = result.results.filter((r) => r.outcome === 'ok').length;
  const head =
    result.outcome === 'converged'
      ? `${result.environment}: converged at ${revisionLabel(result.revision)} in ${(durationMs / 1000).toFixed(1)}s (${done} change${done === 1 ? '' : 's'})`
      : `${result.environment}: FAILED at ${revisionLabel(result.revision)} after ${(durationMs / 1000).toFixed(1)}s: ${result.results.filter((r) => r.outcome !== 'ok').length} of ${result.results.length} changes did not apply; what ran before keeps running`;
  return [head, ...lines].join('\n');
}
