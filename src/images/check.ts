import { isStagecoachError } from '../errors.js';
import { parseImageRef } from '../manifest/image-ref.js';
import { imageName } from '../registry/target.js';
import { chooseTag, describePolicy } from './policy.js';
import type { ImagePolicy } from './policy.js';

/** The two questions image automation asks a registry (RegistryClient answers them; tests use a fake). */
export interface RegistryReader {
  listTags(image: string): Promise<string[]>;
  manifestDigest(image: string): Promise<string>;
}

/** One watched service after a check: what it runs now, the newest the policy allows, and the image to commit if it should move. */
export interface ImageCheck {
  service: string;
  policy: string;
  current: string;
  /** The newest image the policy allows (with digest when pinned), known after a successful check. */
  newestAllowed?: string;
  /** Set when the image line should change to this. */
  next?: string;
  error?: { message: string; transient: boolean; retryAfterMs?: number };
}

/**
 * Asks the registry what the policy allows for one service and decides
 * whether its image moves. Never a downgrade; a failure is reported on the
 * check (the caller keeps the service as it is), never thrown.
 */
export async function checkImage(service: string, image: string, policy: ImagePolicy, registry: RegistryReader): Promise<ImageCheck> {
  const base: ImageCheck = { service, policy: describePolicy(policy), current: image };
  const parsed = parseImageRef(image);
  if (!parsed.ok) return { ...base, error: { message: `image "${image}" ${parsed.reason}`, transient: false } };
  const name = imageName(image);
  const { tag, digest } = parsed.ref;
  try {
    if (policy.kind === 'digest') {
      const followed = tag ?? 'latest';
      const now = await registry.manifestDigest(`${name}:${followed}`);
      const pinned = `${name}:${followed}@${now}`;
      return { ...base, newestAllowed: pinned, ...(now !== digest ? { next: pinned } : {}) };
    }
    const decision = chooseTag(policy, tag, await registry.listTags(name));
    if (decision.outcome === 'refused') return { ...base, error: { message: `${service}: ${decision.reason}`, transient: false } };
    const chosen = decision.outcome === 'newer' ? decision.tag : (decision.newestAllowed ?? decision.tag);
    const moves = decision.outcome === 'newer';
    if (!policy.pinDigest) {
      return { ...base, newestAllowed: `${name}:${chosen}`, ...(moves ? { next: `${name}:${decision.tag}` } : {}) };
    }
    // Pinned: the chosen tag with its digest; the same tag whose digest moved is a move too.
    const target = moves ? decision.tag : (tag ?? decision.tag);
    const pinned = `${name}:${target}@${await registry.manifestDigest(`${name}:${target}`)}`;
    return { ...base, newestAllowed: moves ? pinned : `${name}:${chosen}`, ...(pinned !== image ? { next: pinned } : {}) };
  } catch (error) {
    if (!isStagecoachError(error)) throw error;
    const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
    return { ...base, error: { message: error.message, transient: error.transient, ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}) } };
  }
}
