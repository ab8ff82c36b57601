import pLimit from 'p-limit';
import type { ContainerSpec } from '../manifest/types.js';
import { labels, slotOf } from '../runtime/labels.js';
import type { ContainerRuntime, ContainerSummary } from '../runtime/types.js';
import type { InspectCache, InspectedDetails } from './inspect-cache.js';
import type { ActualState, ObservedContainer } from './types.js';
import { edgeColorOf, observeEdges } from '../proxy/edge-plan.js';

function parseSpec(text: string | undefined): ContainerSpec | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as ContainerSpec;
  } catch {
    return undefined;
  }
}

function toObserved(c: ContainerSummary): ObservedContainer {
  const spec = parseSpec(c.labels[labels.spec]);
  return {
    id: c.id,
    name: c.name,
    service: c.labels[labels.service] ?? '',
    replica: Number(c.labels[labels.replica] ?? '1') || 1,
    slot: slotOf(c.name),
    specHash: c.labels[labels.specHash] ?? '',
    spec,
    revision: c.labels[labels.revision] ?? '',
    // The list call shows an image id instead of the reference once the tag has moved on.
    image: spec?.image ?? c.image,
    imageId: c.imageId,
    state: c.state,
    health: c.health,
    exitCode: c.exitCode ?? null,
    details: undefined,
    edgeColor: edgeColorOf(c.labels),
  };
}

export interface ObserveOptions {
  concurrency?: number;
  /** Reuses earlier inspects of containers the list shows unchanged; without one, every container is inspected. */
  cache?: InspectCache;
  /**
   * The spec hash each service wants. A current container whose label shows
   * another one is replaced whatever an inspect would say (the plan decides
   * on the hash first), so it is not inspected.
   */
  desiredHashes?: ReadonlyMap<string, string>;
}

/**
 * Actual state of one environment: its labelled containers (one list call,
 * which carries state, health, labels and image), then inspects, in parallel,
 * only of what the list cannot settle: containers the cache does not know
 * unchanged, and a desired image only when a container's tag has moved (the
 * list then shows an image id instead of the reference), and never of a
 * container about to be replaced (`desiredHashes`). With a warm cache
 * and nothing changed, that is one API call. Unlabelled containers are never
 * looked at.
 */
export async function observe(runtime: ContainerRuntime, environment: string, desiredImages: readonly string[], options: ObserveOptions = {}): Promise<ActualState> {
  const limit = pLimit(options.concurrency ?? 16);
  const cache = options.cache;
  // Asked beside the list, not after it: one round trip less when no cache knows it.
  const version = cache?.apiVersion !== undefined ? Promise.resolve(cache.apiVersion) : runtime.apiVersion();
  version.catch(() => undefined); // awaited below; an early failure must not be unhandled meanwhile
  const all = await runtime.listContainers({ [labels.managed]: 'true', [labels.environment]: environment });
  // Edge proxies carry no service label: they are observed apart (src/proxy/).
  const listed = all.filter((c) => c.labels[labels.service]);
  cache?.prune(environment, new Set(listed.map((c) => c.id)));
  // What the cache settles is settled at once; only the rest waits for inspects (in parallel, up to the limit).
  const containers = await Promise.all(
    listed.map((c) => {
      const observed = toObserved(c);
      const known = cache?.get(c);
      if (known) return { ...observed, exitCode: observed.exitCode ?? known.exitCode, details: known };
      const wants = options.desiredHashes?.get(observed.service);
      if (wants !== undefined && observed.slot === 'current' && observed.specHash !== wants) return observed; // to be replaced: the list says enough
      return limit(async (): Promise<ObservedContainer | undefined> => {
        const d = await runtime.inspectContainer(c.id);
        if (!d) return undefined; // removed meanwhile
        const details: InspectedDetails = {
          restartCount: d.restartCount,
          exitCode: d.exitCode,
          restartPolicy: d.restartPolicy,
          memoryBytes: d.memoryBytes,
          nanoCpus: d.nanoCpus,
          pidsLimit: d.pidsLimit,
        };
        cache?.set(environment, c, details);
        return { ...observed, state: d.state, health: d.health, exitCode: d.exitCode, details };
      });
    }),
  );
  const wanted = new Set(desiredImages);
  // The tag of a running container's image moved (or went away) when the list no longer shows the reference.
  const moved = [...new Set(listed.flatMap((c, i) => {
    const ref = containers[i]?.image;
    return ref !== undefined && wanted.has(ref) && c.image !== ref ? [ref] : [];
  }))];
  const ids = await Promise.all(moved.map((ref) => limit(async () => (await runtime.inspectImage(ref))?.id)));
  const apiVersion = await version;
  if (cache) cache.apiVersion = apiVersion;
  return {
    environment,
    engine: { apiVersion },
    containers: containers.filter((c): c is ObservedContainer => c !== undefined),
    images: Object.fromEntries(moved.map((ref, i) => [ref, ids[i]])),
    edges: observeEdges(all),
  };
}
