import path from 'node:path';
import type { RepoFiles } from './files.js';
import { disableOverBase, isObj, mergeService, notInherited } from './extends-merge.js';
import { applyMergeMarks, marksUnder, walk } from './merge-tags.js';
import type { MergeMarks } from './merge-tags.js';
import type { ParsedDocument, ParseResult } from './parse.js';
import type { Problem } from './problem.js';
import { describeValue, toPointer } from './problem.js';
import { repoPath } from './service-files.js';
import { didYouMean } from './suggest.js';

type Obj = Record<string, unknown>;
type Segments = readonly (string | number)[];
type Locate = (segments: Segments, at?: 'key' | 'value') => { file?: string; line: number; column: number };

/** A service definition and where it is written: a Service manifest, or a service of a compose file. */
interface Source {
  file: string;
  /** The service's name, for messages. */
  service: string;
  value: Obj;
  locate: Locate;
  /** Set for a service of a compose file: extends without file looks in that file. */
  compose?: Obj;
  composeDoc?: ParsedDocument;
  /** Its `!reset` / `!override` tags, relative to the service. */
  marks?: MergeMarks;
}

export interface ExtendsContext {
  files: RepoFiles;
  /** Parses (and interpolates) a file the way manifests are. */
  parse(file: string, text: string): ParseResult;
  problems: Problem[];
}

const manifestKeys = ['apiVersion', 'kind', 'name'];

/** Relative paths of a base written in another folder, rewritten to point at the same repo files from the extending file. */
function rebase(value: Obj, from: string, to: string): Obj {
  if (path.posix.dirname(from) === path.posix.dirname(to)) return value;
  const move = (p: string): string => {
    const resolved = repoPath(from, p);
    if (resolved === undefined) return p; // reported where it is used: it leaves the repo
    const rel = path.posix.relative(path.posix.dirname(to), resolved);
    return rel.startsWith('.') ? rel : `./${rel}`;
  };
  const out = { ...value };
  if (Array.isArray(value.volumes)) {
    out.volumes = value.volumes.map((v) => {
      if (typeof v === 'string' && v.startsWith('.') && v.includes(':')) return `${move(v.slice(0, v.indexOf(':')))}${v.slice(v.indexOf(':'))}`;
      if (isObj(v) && typeof v.source === 'string' && v.source.startsWith('.')) return { ...v, source: move(v.source) };
      return v;
    });
  }
  const envFile = (f: unknown) => (typeof f === 'string' && !path.posix.isAbsolute(f) ? move(f) : isObj(f) && typeof f.path === 'string' && !path.posix.isAbsolute(f.path) ? { ...f, path: move(f.path) } : f);
  if (value.env_file !== undefined) out.env_file = Array.isArray(value.env_file) ? value.env_file.map(envFile) : envFile(value.env_file);
  return out;
}

/** The merged service's problems point at whichever file wrote the field: the main service's, else its base's. */
function mergedLocate(main: Source, base: Source, merged: Obj): Locate {
  return (segments, at) => {
    const [field, index, ...rest] = segments;
    if (typeof field === 'string' && typeof index === 'number' && Array.isArray(merged[field])) {
      const item = (merged[field] as unknown[])[index];
      const inMain = Array.isArray(main.value[field]) ? (main.value[field] as unknown[]).indexOf(item) : -1;
      if (inMain >= 0) return main.locate([field, inMain, ...rest], at);
      const inBase = Array.isArray(base.value[field]) ? (base.value[field] as unknown[]).indexOf(item) : -1;
      if (inBase >= 0) return base.locate([field, inBase, ...rest], at);
    }
    if (segments.length > 0 && walk(main.value, segments) === undefined && walk(base.value, segments) !== undefined) return base.locate(segments, at);
    return main.locate(segments, at);
  };
}

export class ExtendsResolver {
  private readonly results = new Map<string, Promise<Source | undefined>>();
  private readonly parsed = new Map<string, Promise<ParseResult | undefined>>();

  constructor(
    private readonly ctx: ExtendsContext,
    /** Service manifests of the environment by name: extends without file looks here. */
    private readonly services: ReadonlyMap<string, ParsedDocument>,
  ) {}

  /** The document with its extends chain merged in; undefined when it cannot be (the problems are reported). */
  async resolveDocument(doc: ParsedDocument): Promise<ParsedDocument | undefined> {
    const value = doc.value as Obj;
    const source: Source = { file: doc.file, service: String(value.name), value, locate: (s, at) => doc.locate(s, at), ...(doc.merge ? { marks: doc.merge } : {}) };
    const resolved = await this.resolveCached(source, []);
    if (!resolved) return undefined;
    if (resolved === source) return doc;
    return { ...doc, value: resolved.value, locate: (s, at = 'value') => resolved.locate(s, at) };
  }

  private report(source: Source, segments: Segments, message: string): void {
    this.ctx.problems.push({ file: source.file, ...source.locate(segments), path: toPointer([...segments]), message });
  }

  /** Each service is resolved once, whichever service reaches it first (so a problem is reported once). */
  private resolveCached(source: Source, chain: string[]): Promise<Source | undefined> {
    const key = `${source.file}#${source.service}`;
    let pending = this.results.get(key);
    if (!pending) {
      pending = this.resolve(source, chain);
      this.results.set(key, pending);
    }
    return pending;
  }

  private async resolve(source: Source, chain: string[]): Promise<Source | undefined> {
    const ext = source.value.extends;
    // A base that extends nothing: its resets only remove its own fields.
    if (ext === undefined) return source.marks ? { ...source, value: applyMergeMarks(source.value, source.value, source.marks) } : source;
    const key = `${source.file}#${source.service}`;
    const spec = typeof ext === 'string' ? { service: ext } : isObj(ext) ? ext : undefined;
    const unknownKey = spec && Object.keys(spec).find((k) => k !== 'service' && k !== 'file' && !k.startsWith('x-'));
    if (!spec || typeof spec.service !== 'string' || (spec.file !== undefined && typeof spec.file !== 'string') || unknownKey) {
      this.report(source, ['extends'], `must be a service name, or a mapping { service, file } (got ${describeValue(unknownKey ?? ext)})`);
      return undefined;
    }
    const base = await this.findBase(source, spec.service, spec.file as string | undefined);
    if (!base) return undefined;
    const baseKey = `${base.file}#${base.service}`;
    if (baseKey === key || chain.includes(baseKey)) {
      const loop = [...chain.slice(chain.indexOf(baseKey)), key, baseKey].map((k) => k.replace(/^(.*)#(.*)$/, '$2 ($1)'));
      this.report(source, ['extends'], `forms a cycle: ${baseKey === key ? `${source.service} (${source.file}) → ${source.service}` : loop.join(' → ')}`);
      return undefined;
    }
    const resolvedBase = await this.resolveCached(base, [...chain, key]);
    if (!resolvedBase) {
      this.report(source, ['extends'], `names service "${base.service}" in ${base.file}, which cannot be used (its problems are reported there)`);
      return undefined;
    }
    const baseValue = rebase(Object.fromEntries(Object.entries(resolvedBase.value).filter(([k]) => !manifestKeys.includes(k))), base.file, source.file);
    if (disableOverBase(baseValue, source.value)) {
      this.report(source, ['healthcheck', 'disable'], `cannot disable the healthcheck that service "${base.service}" (${base.file}) defines: compose refuses disable: true over a base healthcheck; write test: ["NONE"]`);
      return undefined;
    }
    const merged = applyMergeMarks(mergeService(baseValue, source.value), source.value, source.marks);
    const located = { ...resolvedBase, value: baseValue };
    return { ...source, value: merged, locate: mergedLocate(source, located, merged) };
  }

  private async findBase(source: Source, service: string, file: string | undefined): Promise<Source | undefined> {
    if (file === undefined) {
      if (source.compose) return this.fromCompose(source, source.composeDoc!, source.compose, source.file, service, ['extends', 'service']);
      const doc = this.services.get(service);
      if (!doc) {
        const names = [...this.services.keys()].filter((n) => n !== source.service).sort();
        const hint = didYouMean(service, names);
        this.report(source, typeof source.value.extends === 'string' ? ['extends'] : ['extends', 'service'], `names service "${service}", which no Service manifest of this environment defines (services here: ${names.join(', ') || 'none'})${hint ? `; did you mean "${hint}"?` : ''}`);
        return undefined;
      }
      return { file: doc.file, service, value: doc.value as Obj, locate: (s, at) => ({ file: doc.file, ...doc.locate(s, at) }), ...(doc.merge ? { marks: doc.merge } : {}) };
    }
    const resolved = path.posix.isAbsolute(file) ? undefined : repoPath(source.file, file);
    if (resolved === undefined) {
      this.report(source, ['extends', 'file'], `must be a path inside the config repo, relative to ${source.file} (got ${describeValue(file)}): refused, not read`);
      return undefined;
    }
    const parsed = await this.parseFile(resolved);
    if (!parsed.ok) {
      this.report(source, ['extends', 'file'], `names ${resolved}, which ${parsed.message}`);
      return undefined;
    }
    const composeDoc = parsed.result.documents.find((d) => isObj(d.value) && isObj((d.value as Obj).services));
    if (composeDoc) return this.fromCompose(source, composeDoc, (composeDoc.value as Obj).services as Obj, resolved, service, ['extends', 'service']);
    const manifests = parsed.result.documents.filter((d) => isObj(d.value) && (d.value as Obj).kind === 'Service');
    const doc = manifests.find((d) => (d.value as Obj).name === service);
    if (!doc) {
      const names = manifests.map((d) => String((d.value as Obj).name));
      this.report(source, ['extends', 'service'], `names service "${service}", which ${resolved} does not define (services there: ${names.join(', ') || 'none'}; expected a compose file with services, or Service manifests)`);
      return undefined;
    }
    return { file: resolved, service, value: doc.value as Obj, locate: (s, at) => ({ file: resolved, ...doc.locate(s, at) }), ...(doc.merge ? { marks: doc.merge } : {}) };
  }

  private fromCompose(source: Source, doc: ParsedDocument, services: Obj, file: string, service: string, where: Segments): Source | undefined {
    const value = services[service];
    if (!isObj(value)) {
      const names = Object.keys(services).sort();
      const hint = didYouMean(service, names);
      this.report(source, where, `names service "${service}", which ${file} does not define (services there: ${names.join(', ') || 'none'})${hint ? `; did you mean "${hint}"?` : ''}`);
      return undefined;
    }
    const marks = marksUnder(doc.merge, ['services', service]);
    return { file, service, value, compose: services, composeDoc: doc, locate: (s, at) => ({ file, ...doc.locate(['services', service, ...s], at) }), ...(marks ? { marks } : {}) };
  }

  private async parseFile(file: string): Promise<{ ok: true; result: ParseResult } | { ok: false; message: string }> {
    let pending = this.parsed.get(file);
    if (!pending) {
      pending = this.ctx.files.read(file).then((read) => {
        if (!read.ok) return undefined;
        const result = this.ctx.parse(file, read.text);
        // A manifest of the environment was parsed already: report its problems once.
        const seen = new Set(this.ctx.problems.map((p) => `${p.file}:${p.line}:${p.column}:${p.message}`));
        this.ctx.problems.push(...result.problems.filter((p) => !seen.has(`${p.file}:${p.line}:${p.column}:${p.message}`)));
        return result;
      });
      this.parsed.set(file, pending);
    }
    const result = await pending;
    if (result) return { ok: true, result };
    const read = await this.ctx.files.read(file);
    return { ok: false, message: read.ok ? 'cannot be parsed' : read.problem.message };
  }
}

/** Replaces each Service document that extends another by the merged one; one that cannot be merged is marked failed. */
export async function resolveExtends(documents: ParsedDocument[], ctx: ExtendsContext): Promise<ParsedDocument[]> {
  const services = new Map<string, ParsedDocument>();
  for (const doc of documents) {
    const v = doc.value as Obj | null;
    if (isObj(v) && v.kind === 'Service' && typeof v.name === 'string' && !services.has(v.name)) services.set(v.name, doc);
  }
  const resolver = new ExtendsResolver(ctx, services);
  const out: ParsedDocument[] = [];
  for (const doc of documents) {
    const v = doc.value as Obj | null;
    if (!isObj(v) || v.kind !== 'Service' || v.extends === undefined || typeof v.name !== 'string') {
      // Nothing to merge with: a !reset removes its field, an !override changes nothing.
      out.push(isObj(v) && doc.merge ? { ...doc, value: applyMergeMarks(v, v, doc.merge) } : doc);
      continue;
    }
    const resolved = await resolver.resolveDocument(doc);
    // Failed: its problems are reported; validating it without its base would only add wrong ones.
    out.push(resolved ?? { ...doc, transformFailed: true });
  }
  return out;
}

/** Repo files that Service manifests extend (`extends.file`), to keep apart from manifests when they hold none. */
export function extendedFiles(documents: readonly ParsedDocument[]): string[] {
  const out: string[] = [];
  for (const doc of documents) {
    const v = doc.value as Obj | null;
    const ext = isObj(v) && v.kind === 'Service' ? v.extends : undefined;
    if (isObj(ext) && typeof ext.file === 'string' && !path.posix.isAbsolute(ext.file)) {
      const resolved = repoPath(doc.file, ext.file);
      if (resolved) out.push(resolved);
    }
  }
  return out;
}

export { notInherited };
