import { hostSecrets } from '../reconcile/secrets.js';
import { runTests, summarize } from '../verify/run-tests.js';
import { loadTarget } from './environment.js';
import type { CliIo } from './io.js';
import { exitCodes } from './io.js';

const marks = { passed: '✓', failed: '✗', error: '!' } as const;

/** `stagecoach verify`: runs the environment's tests against what runs now. 0 all passed, 1 any failed, 2 error. Writes no marker. */
export async function verifyCommand(options: { repo?: string; env?: string; json?: boolean }, io: CliIo): Promise<number> {
  const target = await loadTarget(options, io);
  const results = await runTests(target.environment, {
    runtime: target.runtime,
    secrets: hostSecrets(io.env.STAGECOACH_SECRETS_DIR, io.env),
    onResult: options.json ? undefined : (r) => {
      io.out(`  ${marks[r.result]} ${r.name}: ${r.result} in ${r.durationMs}ms — ${r.message}`);
      if (r.result !== 'passed' && r.output) for (const line of r.output.trimEnd().split('\n')) io.out(`      | ${line}`);
    },
  });
  const summary = summarize(results);
  if (options.json) io.out(JSON.stringify({ environment: target.environment.name, ...summary, tests: results }, null, 2));
  else io.out(`${target.environment.name}: ${summary.result} ${summary.passed}/${summary.total} tests`);
  return summary.result === 'passed' ? exitCodes.ok : exitCodes.failed;
}
