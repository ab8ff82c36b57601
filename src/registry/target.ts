import { RegistryError } from '../errors.js';
import { parseImageRef } from '../manifest/image-ref.js';

/** Where an image lives in the distribution API. */
export interface RegistryTarget {
  /** Host as written in the image (docker.io for Docker Hub): the key for credentials and per-registry polling. */
  host: string;
  /** Base URL of the API, without `/v2/`. */
  baseUrl: string;
  /** Repository path as the API wants it (`library/busybox` for Docker Hub's official images). */
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

/**
 * Loopback registries speak plain HTTP, as the Docker engine allows for
 * 127.0.0.0/8 without configuration; everything else is HTTPS.
 */
export function isLoopback(host: string): boolean {
  const name = host.replace(/:\d+$/, '');
  return name === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(name) || name === '[::1]';
}

export function registryTarget(image: string): RegistryTarget {
  const parsed = parseImageRef(image);
  if (!parsed.ok) throw new RegistryError(`image "${image}" ${parsed.reason}`);
  const { registry, repository, tag, digest } = parsed.ref;
  const host = registry ?? 'docker.io';
  const hub = host === 'docker.io' || host === 'index.docker.io';
  const apiHost = hub ? 'registry-1.docker.io' : host;
  return {
    host,
    baseUrl: `${isLoopback(apiHost) ? 'http' : 'https'}://${apiHost}`,
    repository: hub && !repository.includes('/') ? `library/${repository}` : repository,
    tag,
    digest,
  };
}

/** The image name without tag or digest (what `image:` lines keep when only the tag moves). */
export function imageName(image: string): string {
  const parsed = parseImageRef(image);
  if (!parsed.ok) return image;
  return parsed.ref.registry ? `${parsed.ref.registry}/${parsed.ref.repository}` : parsed.ref.repository;
}
