import type { Logger } from 'pino';
import { RegistryClient } from '../registry/client.js';
import { processCredentialHelper } from '../registry/helper-process.js';
import { hostCredentials } from '../registry/host-credentials.js';
import { ImageAutomation } from './automation.js';
import { commitImageBumps } from './bump-commit.js';
import type { BumpGit } from './bump-commit.js';
import type { SignOption } from '../git/ports.js';

export interface ImageAutomationSettings {
  /** The daemon's git (bumps are committed from git objects and pushed with its retry). */
  git: BumpGit;
  branch: string;
  /** The daemon host's Docker config (`auths`, `credsStore`, `credHelpers`). */
  dockerConfigPath: string;
  /** The environment `docker-credential-*` helpers run with (PATH finds them; some read HOME or cloud variables). */
  helperEnv: Record<string, string | undefined>;
  /** Each registry is asked at most this often. */
  intervalMsFor: (registry: string) => number;
  log: Logger;
  now: () => Date;
  /** Signs the bump commits like the daemon's markers. */
  sign?: SignOption;
}

/** Image automation as the daemon runs it: the registry client with the host's credentials, bumps committed and pushed with retry. */
export function daemonImageAutomation(s: ImageAutomationSettings): ImageAutomation {
  // The checks run inside the daemon's cycle: short waits only. A longer Retry-After pauses that registry until then instead.
  const registry = new RegistryClient({ credentials: hostCredentials(s.dockerConfigPath, processCredentialHelper({ env: s.helperEnv })), maxRetryAfterMs: 5_000, maxAttempts: 3, timeoutMs: 15_000 });
  return new ImageAutomation({
    registry,
    log: s.log.child({ component: 'images' }),
    now: s.now,
    intervalMsFor: s.intervalMsFor,
    commit: (environment, bumps) => commitImageBumps(s.git, { branch: s.branch, env: environment, bumps, by: 'stagecoach image automation', sign: s.sign }),
  });
}
