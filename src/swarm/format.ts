import { revisionLabel } from '../reconcile/format.js';
import type { SwarmApplyResult } from './apply.js';
import type { SwarmActionKind, SwarmPlan } from './plan.js';
import type { Refusal } from './service-spec.js';

const symbols: Record<SwarmActionKind, string> = { create: '+', update: '~', heal: '!', remove: '-', held: '⏸', noop: '=' };

export function formatRefusals(refusals: readonly Refusal[]): string {
  return refusals.map((r) => `${r.file}: service ${r.service}: ${r.field}: ${r.reason}`).join('\n');
}

/** A Swarm plan read like the engine one: one line per service, reasons and changed fields indented. */
export function formatSwarmPlan(plan: SwarmPlan): string {
  const lines = [`plan for ${plan.environment} (swarm) at ${revisionLabel(plan.revision)}`];
  if (plan.refusals.length > 0) lines.push('cannot apply: fields a Swarm target cannot honour', ...formatRefusals(plan.refusals).split('\n').map((l) => `  ${l}`));
  for (const a of plan.actions) {
    const image = a.kind === 'update' && a.fromImage && a.fromImage !== a.image ? `${a.fromImage} → ${a.image}` : a.image;
    const how = a.kind === 'update' || a.kind === 'heal' ? `  (${a.order ?? 'run again'})` : '';
    if (a.kind === 'noop') {
      lines.push(`  = ${'noop'.padEnd(8)} ${a.service.padEnd(16)} ${a.reasons.join('; ')}`);
      continue;
    }
    lines.push(`  ${symbols[a.kind]} ${a.kind.padEnd(8)} ${a.service.padEnd(16)} ${image}${how}`);
    for (const reason of a.reasons) lines.push(`      ${reason}`);
    for (const c of a.changes ?? []) if (c.field !== 'image') lines.push(`      ${c.field}: ${c.from} → ${c.to}`);
  }
  const counts = (['create', 'update', 'heal', 'remove', 'held'] as const)
    .map((k) => [k, plan.actions.filter((a) => a.kind === k).length] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k === 'held' ? 'held (rolled back)' : `to ${k}`}`);
  lines.push(`${counts.length === 0 ? 'in sync' : counts.join(', ')}; ${plan.actions.filter((a) => a.kind === 'noop').length} unchanged`);
  return lines.join('\n');
}

export function formatSwarmApply(result: SwarmApplyResult, durationMs: number): string {
  const secs = (durationMs / 1000).toFixed(1);
  const head =
    result.outcome === 'converged'
      ? `${result.environment}: converged at ${revisionLabel(result.revision)} in ${secs}s (${result.results.length} change${result.results.length === 1 ? '' : 's'})`
      : `${result.environment}: ${result.outcome === 'rolled back' ? 'rolled back' : 'FAILED'} at ${revisionLabel(result.revision)} after ${secs}s; what ran before keeps running`;
  const lines = [head];
  for (const r of result.results) {
    const mark = r.outcome === 'ok' ? '✓' : r.outcome === 'skipped' ? '·' : '✗';
    lines.push(`  ${mark} ${r.action.service}: ${r.outcome === 'ok' ? r.message : `${r.outcome}: ${r.message}`}`);
    if (r.logTail) for (const line of r.logTail.trimEnd().split('\n').slice(-20)) lines.push(`      | ${line}`);
  }
  return lines.join('\n');
}
