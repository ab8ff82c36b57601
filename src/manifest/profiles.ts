import type { ParsedDocument } from './parse.js';
import type { Problem } from './problem.js';
import { toPointer } from './problem.js';
import type { EnvironmentManifest, ServiceManifest } from './types.js';

interface Located {
  doc: ParsedDocument;
  service: ServiceManifest;
}

export function isActive(service: ServiceManifest, environment: EnvironmentManifest | undefined): boolean {
  if (!service.profiles?.length) return true;
  return service.profiles.some((p) => environment?.profiles?.includes(p));
}

/**
 * Services whose profiles are active here (all are validated either way).
 * An active service that depends on an inactive one is a problem, as in compose.
 */
export function activeServices(services: Located[], environment: EnvironmentManifest | undefined, problems: Problem[]): Located[] {
  const active = services.filter((s) => isActive(s.service, environment));
  const inactive = new Map(services.filter((s) => !active.includes(s)).map((s) => [s.service.name, s.service]));
  for (const { doc, service } of active) {
    for (const dep of Object.keys(service.dependsOn)) {
      const other = inactive.get(dep);
      if (!other) continue;
      const segments = Array.isArray((doc.value as { depends_on?: unknown }).depends_on) ? ['depends_on'] : ['depends_on', dep];
      problems.push({
        file: doc.file,
        ...doc.locate(segments, 'key'),
        path: toPointer(segments),
        message: `depends on "${dep}", which is not deployed here: its profiles (${other.profiles!.join(', ')}) are not active in this environment (profiles: ${environment?.profiles?.join(', ') || 'none'})`,
      });
    }
  }
  return active;
}
