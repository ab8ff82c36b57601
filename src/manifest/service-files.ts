import { isSecretName, secretNameHint } from '../policy/secret-name.js';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Report } from './normalize-service.js';
import { describeValue } from './problem.js';
import type { EnvironmentManifest, FileMount } from './types.js';

export type RawFileRef = string | { source: string; target?: string; mode?: number | string; uid?: string | number; gid?: string | number };

/** What a repo read gave: the text, or why it cannot be a file in a container. */
export type RepoFileRead = { ok: true; bytes: Buffer } | { ok: false; message: string };

/** Over the bytes (the same as over the text for a UTF-8 file, so hashes of text files did not change). */
export function sha256(content: string | Buffer): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

/** A path relative to the manifest's folder, as a repo path; undefined when it leaves the repo. */
export function repoPath(manifestFile: string, relative: string): string | undefined {
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(manifestFile), relative));
  return resolved.startsWith('../') || resolved === '..' ? undefined : resolved;
}

function mode(value: number | string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  return typeof value === 'number' ? value : Number.parseInt(value, 8);
}

function owner(ref: RawFileRef): { uid?: number; gid?: number } {
  if (typeof ref === 'string') return {};
  return { ...(ref.uid === undefined ? {} : { uid: Number(ref.uid) }), ...(ref.gid === undefined ? {} : { gid: Number(ref.gid) }) };
}

export interface FilesContext {
  file: string;
  environment: EnvironmentManifest | undefined;
  repoFiles: ReadonlyMap<string, RepoFileRead>;
  report: Report;
  /** Contents by target, collected for apply (never hashed as text, never in labels). */
  contents: Record<string, Buffer>;
}

/** A relative bind of a file in the config repo: copied into the container at create. */
export function repoBind(source: string, target: string, readOnly: boolean, where: (string | number)[], ctx: FilesContext): FileMount | undefined {
  const resolved = repoPath(ctx.file, source);
  const read = resolved === undefined ? undefined : ctx.repoFiles.get(resolved);
  if (resolved === undefined || read === undefined) {
    ctx.report(where, `bind mount source ${describeValue(source)} leaves the config repo`);
    return undefined;
  }
  if (!read.ok) {
    ctx.report(
      where,
      `bind mount source ${describeValue(source)} (${resolved}) ${read.message}: only a file of the config repo can be copied into the container; for a directory that holds state use a named volume (e.g. "data:${target}")`,
    );
    return undefined;
  }
  ctx.contents[target] = read.bytes;
  return { target, mode: readOnly ? 0o444 : 0o644, from: resolved, sha256: sha256(read.bytes) };
}

/** Compose configs: environment-level definitions (file in the repo, or inline content), copied in at create. */
export function normalizeConfigs(refs: RawFileRef[] | undefined, ctx: FilesContext): FileMount[] {
  const out: FileMount[] = [];
  (refs ?? []).forEach((ref, i) => {
    const name = typeof ref === 'string' ? ref : ref.source;
    const def = ctx.environment?.configs?.[name];
    if (!def) {
      ctx.report(['configs', i], `names config "${name}", which the environment does not define (define it under configs in environment.yaml; configs here: ${Object.keys(ctx.environment?.configs ?? {}).join(', ') || 'none'})`);
      return;
    }
    const target = typeof ref === 'string' || !ref.target ? `/${name}` : ref.target.startsWith('/') ? ref.target : `/${ref.target}`;
    ctx.contents[target] = def.content;
    out.push({ target, mode: mode(typeof ref === 'string' ? undefined : ref.mode, 0o444), from: `config:${name}`, sha256: sha256(def.content), ...owner(ref) });
  });
  return out;
}

/** Compose secrets: files under /run/secrets, their content resolved on the daemon host at create (never in git, labels or env). */
export function normalizeSecrets(refs: RawFileRef[] | undefined, ctx: FilesContext): FileMount[] {
  const out: FileMount[] = [];
  (refs ?? []).forEach((ref, i) => {
    const name = typeof ref === 'string' ? ref : ref.source;
    // The one secret-name grammar (service environments, tests and compose secrets alike): a file name, never a path.
    if (!isSecretName(name)) {
      ctx.report(['secrets', i], `${secretNameHint} (got ${describeValue(name)})`);
      return;
    }
    const target = typeof ref === 'string' || !ref.target ? `/run/secrets/${name}` : ref.target.startsWith('/') ? ref.target : `/run/secrets/${ref.target}`;
    // The environment's secrets: may name another daemon-host secret (external name:, environment: VAR); else its own name.
    const secret = ctx.environment?.secrets?.[name]?.hostName ?? name;
    out.push({ target, mode: mode(typeof ref === 'string' ? undefined : ref.mode, 0o444), from: `secret:${name}`, secret, ...owner(ref) });
  });
  return out;
}

/** Every repo path a service's relative binds name, to read before normalizing. */
export function relativeBindSources(volumes: readonly unknown[] | undefined, manifestFile: string): string[] {
  const sources: string[] = [];
  for (const v of volumes ?? []) {
    const source = typeof v === 'string' ? v.split(':')[0] : (v as { source?: string; type?: string }).source;
    if (typeof source === 'string' && source.startsWith('.') && (typeof v === 'string' ? v.includes(':') : true)) {
      const resolved = repoPath(manifestFile, source);
      if (resolved) sources.push(resolved);
    }
  }
  return sources;
}
