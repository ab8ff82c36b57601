import type { Problem } from './manifest/problem.js';
import { formatProblem } from './manifest/problem.js';

/** The closed set of failure kinds; `kind` is the discriminant callers branch on. */
export const errorKinds = ['manifest', 'git', 'docker', 'deploy', 'verification', 'timeout', 'usage', 'io'] as const;
export type ErrorKind = (typeof errorKinds)[number];

export interface ErrorOptions {
  cause?: unknown;
  /** Worth retrying as is (network blips, a busy engine); never true for bad input. */
  transient?: boolean;
}

export abstract class StagecoachError extends Error {
  abstract readonly kind: ErrorKind;
  readonly transient: boolean;

  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.transient = options.transient ?? false;
  }
}

/** One or more manifest problems; `message` lists all of them, one per line. */
export class ManifestError extends StagecoachError {
  readonly kind = 'manifest' as const;
  constructor(readonly problems: readonly Problem[], options: ErrorOptions = {}) {
    super(problems.map(formatProblem).join('\n'), options);
  }
}

export class GitError extends StagecoachError {
  readonly kind = 'git' as const;
}

export class DockerError extends StagecoachError {
  readonly kind = 'docker' as const;
}

export class DeployError extends StagecoachError {
  readonly kind = 'deploy' as const;
}

export class VerificationError extends StagecoachError {
  readonly kind = 'verification' as const;
}

export class TimeoutError extends StagecoachError {
  readonly kind = 'timeout' as const;
}

/** Bad command-line usage or settings: exit code 2. */
export class UsageError extends StagecoachError {
  readonly kind = 'usage' as const;
}

/** A file or directory that cannot be read: exit code 2. */
export class IoError extends StagecoachError {
  readonly kind = 'io' as const;
}

export function isStagecoachError(error: unknown): error is StagecoachError {
  return error instanceof StagecoachError;
}
