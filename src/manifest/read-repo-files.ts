import type { BytesResult, RepoFiles } from './files.js';
import type { ParsedDocument } from './parse.js';
import type { Problem } from './problem.js';
import { describeValue, toPointer } from './problem.js';
import { extendedFiles } from './extends.js';
import type { RepoFileRead } from './service-files.js';
import { relativeBindSources, repoPath } from './service-files.js';

/** A file copied into a container, byte for byte where the source can (a binary file stays binary). */
async function readBytes(files: RepoFiles, file: string): Promise<BytesResult> {
  if (files.readBytes) return files.readBytes(file);
  const read = await files.read(file);
  return read.ok ? { ok: true, bytes: Buffer.from(read.text, 'utf8') } : read;
}

/** Reads every repo file the services bind by a relative path (normalize is synchronous, reading is not). */
export async function readBoundFiles(services: { doc: ParsedDocument; raw: { volumes?: unknown[] } }[], files: RepoFiles): Promise<Map<string, RepoFileRead>> {
  const reads = new Map<string, RepoFileRead>();
  for (const { doc, raw } of services) {
    for (const source of relativeBindSources(raw.volumes, doc.file)) {
      if (reads.has(source)) continue;
      const read = await readBytes(files, source);
      reads.set(source, read.ok ? { ok: true, bytes: read.bytes } : { ok: false, message: read.problem.message === 'is not a regular file' ? 'is a directory, not a file' : read.problem.message });
    }
  }
  return reads;
}

/** The environment's configs with their content: inline, or a repo file relative to environment.yaml. */
export async function readConfigs(
  doc: ParsedDocument,
  raw: Record<string, { file?: string; content?: string }> | undefined,
  files: RepoFiles,
  problems: Problem[],
): Promise<Record<string, { content: Buffer }> | undefined> {
  if (!raw) return undefined;
  const out: Record<string, { content: Buffer }> = {};
  for (const [name, def] of Object.entries(raw)) {
    const where = ['configs', name];
    const report = (message: string) => problems.push({ file: doc.file, ...doc.locate(where), path: toPointer(where), message });
    if ((def.file === undefined) === (def.content === undefined)) {
      report('needs exactly one of file or content');
      continue;
    }
    if (def.content !== undefined) {
      out[name] = { content: Buffer.from(def.content, 'utf8') };
      continue;
    }
    const resolved = repoPath(doc.file, def.file!);
    if (!resolved) {
      report(`file must be inside the config repo (got ${describeValue(def.file)})`);
      continue;
    }
    const read = await readBytes(files, resolved);
    if (!read.ok) report(`names ${resolved}, which ${read.problem.message}`);
    else out[name] = { content: read.bytes };
  }
  return out;
}

/**
 * Files that manifests name as content (relative binds, config files): a
 * prometheus.yml copied into a container is data, not a manifest, even though it sits among them.
 */
export function dataFiles(documents: readonly ParsedDocument[]): Set<string> {
  const named = new Set<string>();
  for (const doc of documents) {
    const value = doc.value as { kind?: unknown; volumes?: unknown[]; configs?: Record<string, { file?: unknown }> } | null;
    if (value?.kind === 'Service') for (const source of relativeBindSources(Array.isArray(value.volumes) ? value.volumes : [], doc.file)) named.add(source);
    if (value?.kind === 'Environment' && value.configs && typeof value.configs === 'object') {
      for (const def of Object.values(value.configs)) {
        const resolved = typeof def?.file === 'string' ? repoPath(doc.file, def.file) : undefined;
        if (resolved) named.add(resolved);
      }
    }
  }
  // A compose file that services extend is read by the extends resolver, not as manifests.
  for (const file of extendedFiles(documents)) named.add(file);
  // A file that holds a manifest stays one, even if a service also mounts it.
  for (const doc of documents) {
    const kind = (doc.value as { kind?: unknown } | null)?.kind;
    if (kind === 'Service' || kind === 'Environment') named.delete(doc.file);
  }
  return named;
}
