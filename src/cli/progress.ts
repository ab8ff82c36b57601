import type { ApplyEvent } from '../reconcile/apply-context.js';
import type { CliIo } from './io.js';

/**
 * Live progress of an apply: on a terminal, one line per service rewritten in
 * place; otherwise plain lines, one per event.
 */
export function progressPrinter(io: CliIo): (event: ApplyEvent) => void {
  if (!io.isTTY) {
    return (e) => io.out(`${e.environment}/${e.service}${e.replica && e.replica > 1 ? `#${e.replica}` : ''}: ${e.message}`);
  }
  const lines = new Map<string, string>();
  let drawn = 0;
  return (e) => {
    const key = `${e.service}${e.replica && e.replica > 1 ? `#${e.replica}` : ''}`;
    lines.set(key, `  ${key.padEnd(18)} ${e.phase.padEnd(12)} ${e.message}`);
    const block = [...lines.values()].map((l) => l.slice(0, (process.stdout.columns || 120) - 1));
    io.out(`${drawn > 0 ? `\x1b[${drawn}A\x1b[J` : ''}${block.join('\n')}`);
    drawn = block.length;
  };
}
