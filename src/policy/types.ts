/**
 * The operator's policy: what the daemon host's operator lets each
 * environment do. It lives in the daemon's settings, outside the config repo,
 * so whoever can push to the repo cannot widen it; the repo's own `policy:`
 * can only narrow it further.
 */
export interface EnvironmentGrant {
  /** Environment name or glob (`*` any run of characters, `?` one). */
  match: string;
  /** Docker endpoints the environment may target; `default` is the daemon's own engine (no target.docker). */
  dockerTargets: string[];
  /** Host directories whose contents may be bind-mounted (checked after resolving links). */
  bindMounts: string[];
  /** Privileged mode, capabilities, devices, host network/pid/ipc and the Docker socket. */
  hostOptions: boolean;
  /** Globs of secret names the environment may read. */
  secrets: string[];
  /** HOST:PORT globs its HTTP tests may reach, besides what it publishes and its own network. */
  httpTargets: string[];
}

export interface OperatorPolicy {
  /** First match wins; an environment matching none gets `defaults`. */
  environments: EnvironmentGrant[];
  defaults: Omit<EnvironmentGrant, 'match'>;
  /** Where the policy came from, for refusal messages: "settings file /etc/stagecoach.yaml". */
  source: string;
}

export const defaultGrant: Omit<EnvironmentGrant, 'match'> = {
  dockerTargets: ['default', 'unix:///var/run/docker.sock'],
  bindMounts: [],
  hostOptions: false,
  secrets: ['*'],
  httpTargets: [],
};

/** No settings at all: the daemon's own engine (and the local socket), no bind mounts, no host options, own ports only. */
export const defaultPolicy: OperatorPolicy = { environments: [], defaults: defaultGrant, source: 'built-in defaults' };

/** The setting that holds an environment's grant, for messages: policy.environments[1] (match "stag*"). */
export interface ResolvedGrant extends Omit<EnvironmentGrant, 'match'> {
  setting: string;
}
