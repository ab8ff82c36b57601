import type { LoadedEnvironment, TestSpec } from '../manifest/types.js';
import type { SecretSource } from '../reconcile/secrets.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { containerAttempt } from './container.js';
import { execAttempt } from './exec.js';
import { httpAttempt } from './http.js';
import type { Attempt, TestKind, TestResult } from './types.js';

export interface VerifyDeps {
  runtime: ContainerRuntime;
  secrets: SecretSource;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  onResult?: (result: TestResult) => void;
}

function kindOf(test: TestSpec): TestKind {
  return test.http ? 'http' : test.container ? 'container' : 'exec';
}

async function attempt(test: TestSpec, env: LoadedEnvironment, deps: VerifyDeps): Promise<Attempt> {
  try {
    if (test.http) return await httpAttempt(test.http, test.timeoutMs);
    if (test.container) return await containerAttempt(deps.runtime, env, test.name, test.container, deps.secrets, test.timeoutMs);
    return await execAttempt(deps.runtime, env, test.exec!, test.timeoutMs);
  } catch (error) {
    return { result: 'error', message: (error as Error).message };
  }
}

/** Runs an environment's tests in order, each with its retries; every result says why. */
export async function runTests(env: LoadedEnvironment, deps: VerifyDeps): Promise<TestResult[]> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const results: TestResult[] = [];
  for (const test of env.environment.tests) {
    const started = now();
    let last: Attempt = { result: 'error', message: 'not run' };
    let attempts = 0;
    while (attempts <= test.retries) {
      attempts++;
      last = await attempt(test, env, deps);
      if (last.result === 'passed' || last.result === 'error') break;
      if (attempts <= test.retries) await sleep(test.delayMs);
    }
    const message = attempts > 1 ? `${last.message} (after ${attempts} attempts)` : last.message;
    const result: TestResult = { name: test.name, kind: kindOf(test), result: last.result, durationMs: now() - started, attempts, message, ...(last.output ? { output: last.output.split('\n').slice(-20).join('\n') } : {}) };
    deps.onResult?.(result);
    results.push(result);
  }
  return results;
}

export function summarize(results: readonly TestResult[]): { result: 'passed' | 'failed'; passed: number; total: number } {
  const passed = results.filter((r) => r.result === 'passed').length;
  return { result: passed === results.length ? 'passed' : 'failed', passed, total: results.length };
}
