import type { LoadedEnvironment } from '../manifest/types.js';
import { registryTarget } from '../registry/target.js';
import type { ImagePolicy } from './policy.js';
import { compareText } from '../text-order.js';

/** A service whose image moves by itself: where it is, what it names now, and its policy. */
export interface WatchedService {
  environment: string;
  service: string;
  image: string;
  policy: ImagePolicy;
  /** Registry host: checks are grouped and paced per registry. */
  registry: string;
}

/** Every service with an `imagePolicy` in the given environments. Pure. */
export function watchedServices(envs: readonly LoadedEnvironment[]): WatchedService[] {
  const out: WatchedService[] = [];
  for (const env of envs) {
    for (const s of env.services) {
      if (!s.imagePolicy) continue;
      let registry: string;
      try {
        registry = registryTarget(s.spec.image).host;
      } catch {
        continue; // an invalid image never loads; nothing to watch
      }
      out.push({ environment: env.name, service: s.name, image: s.spec.image, policy: s.imagePolicy, registry });
    }
  }
  return out.sort((a, b) => compareText(a.environment, b.environment) || compareText(a.service, b.service));
}
