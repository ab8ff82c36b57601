import { parse as parseDotenv } from 'dotenv';
import { Document, isMap, parseDocument, stringify } from 'yaml';
import { applyMergeMarks, collectMergeMarks, marksUnder, mergeTags } from './merge-tags.js';
import type { MergeMarks } from './merge-tags.js';
import { memoryRepo } from './files.js';
import { environmentsDir, loadRepo } from './load.js';
import { defaultSecretNames } from './normalize-service.js';
import { formatProblem, fromPointer } from './problem.js';
import type { SchemaValidators } from './schemas.js';

export interface ImportInput {
  /** The compose file's name (for messages) and text. */
  file: string;
  text: string;
  env: string;
  /** Text of the .env beside the compose file, if any. */
  dotenv?: string;
  /** Reads a file relative to the compose file's folder (bind sources, config files); undefined when absent or not a file. */
  readRelative(relative: string): Promise<string | undefined>;
}

export interface Dropped {
  service?: string;
  field: string;
  reason: string;
}

export interface ImportResult {
  /** Repo-relative path → text. */
  files: Record<string, string>;
  /** Secret names the daemon host must provide. */
  secrets: string[];
  /** Variables the .env must define before the environment validates. */
  variables: string[];
  dropped: Dropped[];
  /** Problems that stop the import (unreadable compose file). */
  fatal?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 63) || 'service';

/** Secret-looking literal values become secret references named <service>-<variable>. */
function secureEnvironment(service: string, env: unknown, secret: RegExp, secrets: Set<string>): unknown {
  const ref = (name: string, value: string): unknown => {
    if (!secret.test(name) || value === '' || value.includes('$') || (/_FILE$/i.test(name) && value.startsWith('/'))) return value;
    const id = `${service}-${name.toLowerCase().replace(/_/g, '-')}`;
    secrets.add(id);
    return { secret: id };
  };
  if (Array.isArray(env)) {
    const out: Obj = {};
    for (const entry of env.map(String)) {
      const eq = entry.indexOf('=');
      out[eq < 0 ? entry : entry.slice(0, eq)] = eq < 0 ? null : ref(entry.slice(0, eq), entry.slice(eq + 1));
    }
    return out;
  }
  if (isObj(env)) return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null || typeof v === 'object' ? v : ref(k, String(v))]));
  return env;
}

function relativeSources(service: Obj): string[] {
  const out: string[] = [];
  for (const v of Array.isArray(service.volumes) ? service.volumes : []) {
    const source = typeof v === 'string' ? (v.includes(':') ? v.split(':')[0] : undefined) : isObj(v) ? v.source : undefined;
    if (typeof source === 'string' && source.startsWith('.')) out.push(source);
  }
  return out;
}

/** A manifest as YAML, with the merge tags its compose service wrote back on the fields that are still there. */
function withMergeTags(service: Obj, marks: MergeMarks | undefined): string {
  if (!marks) return stringify(service);
  const doc = new Document(service);
  for (const [tag, paths] of [['!reset', marks.reset], ['!override', marks.override]] as const) {
    for (const p of paths) {
      const node = doc.getIn(p, true) as { tag?: string } | null | undefined;
      if (node && typeof node === 'object') node.tag = tag;
    }
  }
  return doc.toString();
}

/**
 * Compose file → stagecoach manifests for one environment. Each field the
 * loader refuses is dropped with the loader's own reason, until what is written validates.
 */
export async function importCompose(input: ImportInput, validators: SchemaValidators): Promise<ImportResult> {
  const doc = parseDocument(input.text, { merge: true, uniqueKeys: true, schema: 'core', customTags: mergeTags });
  if (doc.errors.length || !isMap(doc.contents)) return { files: {}, secrets: [], variables: [], dropped: [], fatal: `${input.file}: ${doc.errors[0]?.message ?? 'is not a compose file (a mapping with services)'}` };
  // compose's merge tags (merge-tags.ts): a service that extends keeps them, written into its manifest
  // for the loader's merge; anywhere else there is nothing to merge with, and a !reset removes its field.
  const { marks, misplaced } = collectMergeMarks(doc);
  if (misplaced.length) return { files: {}, secrets: [], variables: [], dropped: [], fatal: `${input.file}: ${misplaced[0]!.tag} applies to a field's value, not to a list item or a whole document` };
  const raw = doc.toJS({ maxAliasCount: 100 }) as Obj;
  const extending = isObj(raw.services) ? Object.keys(raw.services).filter((n) => isObj((raw.services as Obj)[n]) && ((raw.services as Obj)[n] as Obj).extends !== undefined) : [];
  const kept = new Map(extending.map((n) => [n, marksUnder(marks, ['services', n])] as const));
  const elsewhere = marks && { reset: marks.reset.filter((p) => !(p[0] === 'services' && kept.get(String(p[1])))), override: [] };
  const compose = applyMergeMarks(raw, raw, elsewhere);
  if (!isObj(compose.services)) return { files: {}, secrets: [], variables: [], dropped: [], fatal: `${input.file}: has no services` };
  const folder = `${environmentsDir}/${input.env}`;
  const secret = new RegExp(defaultSecretNames, 'i');
  const secrets = new Set<string>();
  const dropped: Dropped[] = [];
  const files: Record<string, string> = {};
  const dotenv = parseDotenv(input.dotenv ?? '');
  const envLines = Object.entries(dotenv).filter(([k]) => !secret.test(k)).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  for (const name of Object.keys(dotenv).filter((k) => secret.test(k))) secrets.add(name);

  const environment: Obj = { apiVersion: 'stagecoach/v1', kind: 'Environment', name: input.env };
  for (const key of ['networks', 'volumes', 'configs'] as const) if (isObj(compose[key])) environment[key] = compose[key];
  if (isObj(compose.volumes)) {
    environment.volumes = Object.fromEntries(Object.entries(compose.volumes).filter(([, v]) => isObj(v) && v.external).map(([k, v]) => [k, { external: true, ...(isObj(v) && typeof v.name === 'string' ? { name: v.name } : {}) }]));
    if (Object.keys(environment.volumes as Obj).length === 0) delete environment.volumes;
  }
  // Top-level secrets: where each value comes from, on the daemon host. A file: in the project is not
  // carried into git; the secret is listed to provide on the daemon host and declared external.
  if (isObj(compose.secrets)) {
    const sources: Obj = {};
    for (const [name, def] of Object.entries(compose.secrets)) {
      const d = isObj(def) ? def : {};
      if (typeof d.environment === 'string') {
        sources[name] = { environment: d.environment };
        secrets.add(d.environment);
        continue;
      }
      const hostName = d.external && typeof d.name === 'string' ? d.name : name;
      sources[name] = { external: true, ...(hostName === name ? {} : { name: hostName }) };
      secrets.add(hostName);
      if (typeof d.file === 'string') dropped.push({ field: `secrets.${name}.file`, reason: `not carried: secrets never live in git; provide ${name} on the daemon host (declared external: true)` });
    }
    environment.secrets = sources;
  }
  const profiles = new Set<string>();
  const services: Record<string, Obj> = {};
  const tagged = new Map<string, MergeMarks>();
  for (const [rawName, value] of Object.entries(compose.services)) {
    const name = slug(rawName);
    if (!isObj(value)) continue;
    if (value.image === undefined && value.build !== undefined && value.extends === undefined) {
      dropped.push({ service: rawName, field: 'build', reason: 'build-only service: stagecoach does not build images; build and push it in CI, then add image' });
      continue;
    }
    const service: Obj = { apiVersion: 'stagecoach/v1', kind: 'Service', name };
    for (const [field, v] of Object.entries(value)) if (!field.startsWith('x-')) service[field] = v;
    if (service.environment !== undefined) service.environment = secureEnvironment(name, service.environment, secret, secrets);
    // extends without file names a service of this compose file, which becomes a manifest under its slug.
    if (typeof service.extends === 'string') service.extends = slug(service.extends);
    else if (isObj(service.extends) && service.extends.file === undefined && typeof service.extends.service === 'string') service.extends = { ...service.extends, service: slug(service.extends.service) };
    for (const p of Array.isArray(value.profiles) ? value.profiles : []) profiles.add(String(p));
    services[name] = service;
    const tags = kept.get(rawName);
    if (tags) tagged.set(name, tags);
  }
  // Files the manifests name by relative path travel with them, at the same relative place.
  const copy = async (relative: string) => {
    const text = await input.readRelative(relative);
    if (text !== undefined) files[`${folder}/${relative.replace(/^\.\//, '')}`] = text;
  };
  for (const s of Object.values(services)) {
    for (const source of relativeSources(s)) await copy(source);
    const envFiles = s.env_file === undefined ? [] : Array.isArray(s.env_file) ? s.env_file : [s.env_file];
    for (const f of envFiles) await copy(typeof f === 'string' ? f : String((f as Obj).path));
    if (isObj(s.extends) && typeof s.extends.file === 'string') await copy(s.extends.file);
  }
  for (const c of Object.values(isObj(environment.configs) ? environment.configs : {})) if (isObj(c) && typeof c.file === 'string') await copy(c.file);
  if (profiles.size) dropped.push({ field: 'profiles', reason: `services with profiles (${[...profiles].sort().join(', ')}) deploy only once environment.yaml lists them under profiles` });

  const variables = new Set<string>();
  for (let round = 0; round < 6; round++) {
    const manifests: Record<string, string> = { ...files, [`${folder}/environment.yaml`]: stringify(environment) };
    for (const [name, s] of Object.entries(services)) manifests[`${folder}/${name}.yaml`] = withMergeTags(s, tagged.get(name));
    const placeholders = [...variables].map((v) => `${v}=1`);
    manifests[`${folder}/.env`] = [...envLines, ...placeholders].join('\n');
    const { problems } = await loadRepo(memoryRepo(manifests), validators);
    if (problems.length === 0 || round === 5) {
      manifests[`${folder}/.env`] = envLines.length ? `${envLines.join('\n')}\n` : '';
      if (!manifests[`${folder}/.env`]) delete manifests[`${folder}/.env`];
      for (const p of problems) dropped.push({ field: p.path ?? p.file, reason: formatProblem(p) });
      return { files: manifests, secrets: [...secrets].sort(), variables: [...variables].sort(), dropped };
    }
    const removals: [Obj, string, number][] = [];
    for (const problem of problems) {
      const unset = /uses \$\{(\w+)\}, which is not set|^(\w+) has no value and is not set/.exec(problem.message);
      if (unset) {
        variables.add(unset[1] ?? unset[2]!);
        continue;
      }
      const segments = fromPointer(problem.path ?? '');
      const field = String(segments[0] ?? '');
      const target = problem.file.endsWith('/environment.yaml') ? environment : services[problem.file.slice(folder.length + 1).replace(/\.yaml$/, '')];
      if (!target || !field || !(field in target)) continue;
      const serviceName = target === environment ? undefined : String(target.name);
      if (field === 'image' || field === 'name') {
        delete services[serviceName!];
        dropped.push({ service: serviceName, field, reason: `service not carried: ${problem.message}` });
        continue;
      }
      if (typeof segments[1] === 'number' && Array.isArray(target[field])) {
        // One bad item of a list (a volume, a port): drop that item only.
        removals.push([target, field, segments[1]]);
        dropped.push({ ...(serviceName ? { service: serviceName } : {}), field: `${field}[${segments[1]}]`, reason: problem.message });
        continue;
      }
      delete target[field];
      dropped.push({ ...(serviceName ? { service: serviceName } : {}), field, reason: problem.message });
    }
    for (const [target, field, index] of removals.sort((a, b) => b[2] - a[2])) {
      const list = target[field];
      if (Array.isArray(list)) list.splice(index, 1);
      if (Array.isArray(list) && list.length === 0) delete target[field];
    }
  }
  return { files, secrets: [...secrets], variables: [...variables], dropped };
}
