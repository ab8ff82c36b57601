/** Labels on everything stagecoach creates; actual state is read back from them. */
export const labels = {
  managed: 'io.stagecoach.managed',
  environment: 'io.stagecoach.environment',
  service: 'io.stagecoach.service',
  replica: 'io.stagecoach.replica',
  specHash: 'io.stagecoach.spec-hash',
  /** The normalized spec (secret references, never values) as JSON: lets plan name what changed. */
  spec: 'io.stagecoach.spec',
  revision: 'io.stagecoach.revision',
} as const;

/** Container name suffixes that mark a rollout in progress; see reconcile/recover.ts. */
export const slotSuffix = { candidate: '.next', previous: '.prev' } as const;
export const slots = ['current', 'candidate', 'previous'] as const;
export type Slot = (typeof slots)[number];

export function networkName(env: string): string {
  return `stagecoach-${env}`;
}

export function volumeName(env: string, volume: string): string {
  return `stagecoach-${env}-${volume}`;
}

/** `<env>-<service>`, plus the replica index when the service has several. */
export function containerName(env: string, service: string, replica: number, replicas: number, slot: Slot = 'current'): string {
  const base = replicas > 1 || replica > 1 ? `${env}-${service}-${replica}` : `${env}-${service}`;
  return slot === 'current' ? base : `${base}${slotSuffix[slot]}`;
}

export function slotOf(name: string): Slot {
  if (name.endsWith(slotSuffix.candidate)) return 'candidate';
  if (name.endsWith(slotSuffix.previous)) return 'previous';
  return 'current';
}

export function baseName(name: string): string {
  return name.replace(/\.(next|prev)$/, '');
}
