import type { EdgeResult } from './edge-apply.js';
import type { EdgeAction } from './edge-plan.js';

/** Plan lines for the edge proxies: `  ⇄ create   web.edge`, reasons indented. */
export function formatEdgeActions(edges: readonly EdgeAction[] | undefined): string[] {
  return (edges ?? []).flatMap((e) => [`  ⇄ edge ${e.kind.padEnd(8)} ${e.service.padEnd(11)} ${e.container?.name ?? ''}${e.color ? ` → ${e.color}` : ''}`.trimEnd(), ...e.reasons.map((r) => `      ${r}`)]);
}

export function formatEdgeResults(results: readonly EdgeResult[] | undefined): string[] {
  return (results ?? []).map((r) => `  ${r.ok ? '✓' : '✗'} ${r.action.service} (edge): ${r.message}`);
}
