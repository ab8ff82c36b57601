/**
 * Image references, per the grammar of the distribution project's `reference` package:
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] path-component ( "/" path-component )*
 */
export interface ImageRef {
  /** Registry host (with port), or undefined for Docker Hub. */
  registry: string | undefined;
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domain = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const pathComponent = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const pathPattern = new RegExp(`^${pathComponent}(?:/${pathComponent})*$`);
const domainPattern = new RegExp(`^${domain}$`);

export type ImageRefResult = { ok: true; ref: ImageRef } | { ok: false; reason: string };

export function parseImageRef(input: string): ImageRefResult {
  if (input.trim() === '') return { ok: false, reason: 'is empty' };
  if (/\s/.test(input)) return { ok: false, reason: 'contains whitespace' };
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) return { ok: false, reason: `has a malformed digest "${digest}" (expected algorithm:hex, e.g. sha256:<64 hex digits>)` };
    if (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest)) {
      return { ok: false, reason: `has a malformed sha256 digest (expected 64 lowercase hex digits)` };
    }
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!tagPattern.test(tag)) return { ok: false, reason: `has a malformed tag "${tag}" (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')` };
  }
  if (rest === '') return { ok: false, reason: 'has no repository name' };
  let registry: string | undefined;
  let path = rest;
  const firstSlash = rest.indexOf('/');
  if (firstSlash >= 0) {
    const first = rest.slice(0, firstSlash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[') || first !== first.toLowerCase()) {
      registry = first;
      path = rest.slice(firstSlash + 1);
      if (!domainPattern.test(registry)) return { ok: false, reason: `has a malformed registry host "${registry}"` };
    }
  }
  if (path !== path.toLowerCase()) return { ok: false, reason: `repository "${path}" must be lowercase` };
  if (!pathPattern.test(path)) {
    return { ok: false, reason: `repository "${path}" is malformed (lowercase letters, digits and separators '.', '_', '__', '-' between them, components joined by '/')` };
  }
  if (rest.length > 255) return { ok: false, reason: 'name is longer than 255 characters' };
  return { ok: true, ref: { registry, repository: path, tag, digest } };
}

/** The reference as Docker will resolve it: an implicit `latest` tag made explicit. */
export function canonicalImage(ref: ImageRef): string {
  const name = ref.registry ? `${ref.registry}/${ref.repository}` : ref.repository;
  const tag = ref.tag ?? (ref.digest ? undefined : 'latest');
  return `${name}${tag ? `:${tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
