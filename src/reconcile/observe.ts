import pLimit from 'p-limit';
import type { ContainerSpec } from '../manifest/types.js';
import { labels, slotOf } from '../runtime/labels.js';
import type { ContainerRuntime, ContainerSummary } from '../runtime/types.js';
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
    details: undefined,
    edgeColor: edgeColorOf(c.labels),
  };
}

/**
 * Actual state of one environment: its labelled containers (one list call,
 * then inspects in parallel for what only inspect tells) and the local image
 * id of every desired image. Unlabelled containers are never looked at.
 */
export async function observe(runtime: ContainerRuntime, environment: string, desiredImages: readonly string[], concurrency = 8): Promise<ActualState> {
  const limit = pLimit(concurrency);
  const listed = await runtime.listContainers({ [labels.managed]: 'true', [labels.environment]: environment });
  const containers = await Promise.all(
    listed
      .filter((c) => c.labels[labels.service])
      .map((c) =>
        limit(async (): Promise<ObservedContainer | undefined> => {
          const observed = toObserved(c);
          const details = await runtime.inspectContainer(c.id);
          if (!details) return undefined; // removed meanwhile
          return {
            ...observed,
            state: details.state,
            health: details.health,
            details: {
              restartCount: details.restartCount,
              exitCode: details.exitCode,
              restartPolicy: details.restartPolicy,
              memoryBytes: details.memoryBytes,
              nanoCpus: details.nanoCpus,
              pidsLimit: details.pidsLimit,
            },
          };
        }),
      ),
  );
  const unique = [...new Set(desiredImages)];
  const ids = await Promise.all(unique.map((ref) => limit(async () => (await runtime.inspectImage(ref))?.id)));
  return {
    environment,
    containers: containers.filter((c): c is ObservedContainer => c !== undefined),
    images: Object.fromEntries(unique.map((ref, i) => [ref, ids[i]])),
    edges: observeEdges(listed),
  };
}
