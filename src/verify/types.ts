export const testResults = ['passed', 'failed', 'error'] as const;
export type TestOutcome = (typeof testResults)[number];

export const testKinds = ['http', 'container', 'exec'] as const;
export type TestKind = (typeof testKinds)[number];

/** The outcome of one check: passed, failed (the system answered wrong), or error (the check itself could not run). */
export interface TestResult {
  name: string;
  kind: TestKind;
  result: TestOutcome;
  durationMs: number;
  attempts: number;
  /** Why, in a sentence: "expected 200, got 503 from http://web/health". */
  message: string;
  /** The last lines of a container or exec test's output. */
  output?: string;
}

/** One attempt of a check; `retryable` false stops retries (a misconfigured test). */
export interface Attempt {
  result: TestOutcome;
  message: string;
  output?: string;
}
