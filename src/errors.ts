/** The closed set of failure kinds; `kind` is the discriminant callers branch on. */
export const errorKinds = ['git', 'docker', 'deploy', 'usage'] as const;
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

export class GitError extends StagecoachError {
  readonly kind = 'git' as const;
}

export class DockerError extends StagecoachError {
  readonly kind = 'docker' as const;
}

export class DeployError extends StagecoachError {
  readonly kind = 'deploy' as const;
}

/** Bad command-line usage or settings: exit code 2. */
export class UsageError extends StagecoachError {
  readonly kind = 'usage' as const;
}

export function isStagecoachError(error: unknown): error is StagecoachError {
  return error instanceof StagecoachError;
}
