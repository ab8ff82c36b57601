import type { DaemonStatus } from '../daemon/status.js';
import { UsageError } from '../errors.js';
import { imageStatusLines } from '../images/status-view.js';
import type { CliIo } from './io.js';
import { exitCodes } from './io.js';

export function formatStatus(status: DaemonStatus): string {
  const lines = [`${status.repo} @ ${status.branch}: remote head ${status.remote.head?.slice(0, 7) ?? '-'}${status.remote.error ? ` (remote error: ${status.remote.error})` : ''}${status.ready ? '' : ' — starting'}`];
  for (const e of status.environments) {
    lines.push(`${e.name}${e.target ? ` (${e.target})` : ''}: ${e.state}  desired ${e.revision.desired?.slice(0, 7) ?? '-'}  applied ${e.revision.applied?.slice(0, 7) ?? '-'}  last good ${e.revision.lastGood?.slice(0, 7) ?? '-'}`);
    for (const s of e.services) {
      const last = s.lastAction ? `  last: ${s.lastAction.kind} ${s.lastAction.outcome} — ${s.lastAction.message}` : '';
      const image = s.image === s.desiredImage ? s.image : `${s.image ?? 'nothing'} (wants ${s.desiredImage})`;
      const replicas = s.swarm ? ` ${s.swarm.replicas.running}/${s.swarm.replicas.desired} tasks${s.swarm.update ? `, update ${s.swarm.update.state}` : ''}` : '';
      lines.push(`  ${s.name.padEnd(16)} ${image}  ${s.state}${replicas}${s.health !== 'none' ? ` (${s.health})` : ''}${last}`);
      for (const t of s.swarm?.tasks ?? []) lines.push(`    task ${t.id} on ${t.node}: ${t.state}${t.error ? ` — ${t.error}` : ''}`);
    }
    if (e.gate) lines.push(`  gate: ${e.gate.state} (images must have passed in ${e.gate.from})`);
    if (e.lastMarker) lines.push(`  last marker: ${e.lastMarker.tests} at ${e.lastMarker.revision.slice(0, 7)} (${e.lastMarker.at}, commit ${e.lastMarker.commit.slice(0, 7)})`);
    for (const p of e.proposals) lines.push(`  proposal waiting for a merge: ${p.branch} (${p.commit.slice(0, 7)}): ${p.images.join(', ')}`);
    for (const b of e.blocked) lines.push(`  blocked: ${b}`);
    for (const err of e.errors) lines.push(`  error: ${err}`);
    const latest = e.decisions[0];
    if (latest) lines.push(`  latest decision: ${latest.at} ${latest.kind}: ${latest.reason}`);
  }
  lines.push(...imageStatusLines(status.images));
  return lines.join('\n');
}

/** `stagecoach status`: reads the daemon's API. 0 all in sync, 1 some not, 2 daemon unreachable. */
export async function statusCommand(options: { json?: boolean; url?: string }, io: CliIo): Promise<number> {
  const base = options.url ?? `http://${io.env.STAGECOACH_LISTEN ?? '127.0.0.1:7420'}`;
  let status: DaemonStatus;
  try {
    const res = await fetch(`${base.replace(/\/$/, '')}/api/v1/environments`, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    status = (await res.json()) as DaemonStatus;
  } catch (error) {
    throw new UsageError(`cannot read the daemon's status at ${base} (${(error as Error).cause ? String((error as { cause: unknown }).cause) : (error as Error).message}); is \`stagecoach run\` running? (--url to point elsewhere)`);
  }
  io.out(options.json ? JSON.stringify(status, null, 2) : formatStatus(status));
  return status.environments.every((e) => e.state === 'synced') ? exitCodes.ok : exitCodes.failed;
}
