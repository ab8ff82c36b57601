import { parse as parseDotenv } from 'dotenv';
import { validate as validateCron } from 'node-cron';
import type { ReadResult, RepoFiles } from './files.js';
import { normalizeEnvironment } from './normalize-environment.js';
import type { RawEnvironment } from './normalize-environment.js';
import { envFileList, normalizeService, resolveEnvFile } from './normalize-service.js';
import type { RawService, Report } from './normalize-service.js';
import type { ParsedDocument } from './parse.js';
import { parseYamlFile } from './parse.js';
import type { Problem } from './problem.js';
import { compareProblems, describeValue, formatProblem, toPointer } from './problem.js';
import { schemaProblems } from './schema-problems.js';
import type { SchemaValidators } from './schemas.js';
import { didYouMean } from './suggest.js';
import type { EnvironmentManifest, LoadedEnvironment, ServiceManifest } from './types.js';
import { manifestKinds } from './types.js';
import { crossCheckServices } from './cross-checks.js';
import { activeServices } from './profiles.js';
import { imageProblem } from './normalize-service.js';
import { interpolateDocument } from './interpolate-document.js';
import { environmentPreview, readVariables } from './variables.js';
import { dataFiles, readBoundFiles, readConfigs } from './read-repo-files.js';
import { resolveExtends } from './extends.js';

export const environmentsDir = 'environments';

export interface EnvironmentLoad {
  name: string;
  /** Present only when the environment has no problems at all. */
  loaded?: LoadedEnvironment;
  problems: Problem[];
}

interface ValidDoc<T> {
  doc: ParsedDocument;
  raw: T;
}

function reporterFor(doc: ParsedDocument, problems: Problem[]): Report {
  return (segments, message, at = 'value') => {
    problems.push({ file: doc.file, ...doc.locate(segments, at), path: toPointer(segments), message });
  };
}

/** Splits documents by kind, reporting non-mappings, missing or unknown kinds and schema violations. */
function classify(documents: ParsedDocument[], validators: SchemaValidators, problems: Problem[]) {
  const environments: ValidDoc<RawEnvironment>[] = [];
  const services: ValidDoc<RawService>[] = [];
  /** Services whose document failed its schema: a dependency on one is not "unknown". */
  const invalidServices: string[] = [];
  let environmentDocs = 0;
  const kinds = manifestKinds.join(' or ');
  for (const doc of documents) {
    const value = doc.value;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ file: doc.file, ...doc.locate([]), message: `a manifest must be a mapping with apiVersion and kind (got ${describeValue(value)})` });
      continue;
    }
    const kind = (value as Record<string, unknown>).kind;
    if (kind === undefined) {
      problems.push({ file: doc.file, ...doc.locate([]), path: '/kind', message: `is required (${kinds})` });
      continue;
    }
    if (kind !== 'Environment' && kind !== 'Service') {
      const suggestion = typeof kind === 'string' ? didYouMean(kind, manifestKinds) : undefined;
      const hint = suggestion ? `; did you mean "${suggestion}"?` : '';
      problems.push({ file: doc.file, ...doc.locate(['kind']), path: '/kind', message: `must be ${kinds} (got ${describeValue(kind)})${hint}` });
      continue;
    }
    const validate = validators[kind];
    if (kind === 'Environment') environmentDocs++;
    const serviceName = (value as Record<string, unknown>).name;
    if (doc.transformFailed) {
      // Its interpolation problems are reported; validating the uninterpolated text would only add wrong ones.
      if (typeof serviceName === 'string') invalidServices.push(serviceName);
      continue;
    }
    if (!validate(value)) {
      const buildOnly = kind === 'Service' && (value as Record<string, unknown>).build !== undefined && (value as Record<string, unknown>).image === undefined;
      problems.push(
        ...schemaProblems(validate.errors ?? [], doc).map((p) =>
          buildOnly && p.path === '/image' && p.message === 'is required'
            ? { ...p, message: 'has build but no image: stagecoach does not build images; build and push the image in CI, then name it in image' }
            : p,
        ),
      );
      // The image is checked on its own too, so one run reports it beside the schema problems.
      const image = (value as Record<string, unknown>).image;
      const bad = kind === 'Service' && typeof image === 'string' ? imageProblem(image) : undefined;
      if (bad) reporterFor(doc, problems)(['image'], bad);
      if (kind === 'Service' && typeof serviceName === 'string') invalidServices.push(serviceName);
      continue;
    }
    if (kind === 'Environment') environments.push({ doc, raw: value as unknown as RawEnvironment });
    else services.push({ doc, raw: value as unknown as RawService });
  }
  return { environments, services, environmentDocs, invalidServices };
}

async function readEnvFiles(services: ValidDoc<RawService>[], files: RepoFiles, problems: Problem[]) {
  const envFiles = new Map<string, Record<string, string>>();
  for (const { doc, raw } of services) {
    const list = envFileList(raw);
    for (const [i, { path: envFile, required }] of list.entries()) {
      const where = typeof raw.env_file === 'string' ? ['env_file'] : ['env_file', i];
      const resolved = resolveEnvFile(doc.file, envFile);
      if (resolved === undefined) {
        reporterFor(doc, problems)(where, `must be a path inside the config repo (got ${describeValue(envFile)})`);
        continue;
      }
      if (envFiles.has(resolved)) continue;
      const read = await files.read(resolved);
      if (!read.ok && !required && read.problem.message === 'does not exist') continue; // compose: required: false skips a missing file
      if (!read.ok) {
        reporterFor(doc, problems)(where, `names ${resolved}, which ${read.problem.message}`);
        continue;
      }
      envFiles.set(resolved, parseDotenv(read.text));
    }
  }
  return envFiles;
}

function checkEnvironment(name: string, folder: string, environments: ValidDoc<RawEnvironment>[], environmentDocs: number, problems: Problem[]) {
  if (environments.length === 0) {
    // An Environment that failed its schema is already reported; do not also call it missing.
    if (environmentDocs === 0) problems.push({ file: folder, message: `has no Environment manifest (a document with kind: Environment)` });
    return undefined;
  }
  const [first, ...extra] = environments;
  for (const { doc } of extra) {
    const at = first!.doc.locate([]);
    problems.push({
      file: doc.file,
      ...doc.locate(['kind']),
      path: '/kind',
      message: `is a second Environment in ${folder} (the first is at ${first!.doc.file}:${at.line}:${at.column}); one per folder`,
    });
  }
  const { doc, raw } = first!;
  const report = reporterFor(doc, problems);
  if (raw.name !== name) report(['name'], `must equal its folder name "${name}" (got ${describeValue(raw.name)})`);
  if (raw.promotion?.from === name) report(['promotion', 'from'], `cannot name the environment itself (got ${describeValue(raw.promotion.from)})`);
  for (const [segments, expr] of [
    [['sync', 'schedule'], raw.sync?.schedule],
    [['verify', 'schedule'], raw.verify?.schedule],
  ] as const) {
    if (expr !== undefined && !validateCron(expr)) report([...segments], `is not a valid cron expression (got ${describeValue(expr)})`);
  }
  return { doc, environment: normalizeEnvironment(raw, doc.file, report) };
}

/** Files read at once: a file read is several file system calls, each a trip to libuv's thread pool. */
const readsInFlight = 16;

/** Reads files with a few in flight, in their order (one at a time, 200 manifests waited on ~1,400 calls in a row). */
async function readAll(files: RepoFiles, paths: string[]): Promise<[string, ReadResult][]> {
  const results: [string, ReadResult][] = new Array(paths.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < paths.length; i = next++) results[i] = [paths[i]!, await files.read(paths[i]!)];
  };
  await Promise.all(Array.from({ length: Math.min(readsInFlight, paths.length) }, worker));
  return results;
}

/**
 * Loads one environment folder at one revision: parse, validate, normalize, hash.
 * Pure apart from reading through `files`; never touches Docker or git. All problems, not the first only.
 */
export async function loadEnvironment(files: RepoFiles, name: string, validators: SchemaValidators): Promise<EnvironmentLoad> {
  const folder = `${environmentsDir}/${name}`;
  const problems: Problem[] = [];
  const manifestFiles = await files.listManifests(folder);
  if (manifestFiles.length === 0) {
    return { name, problems: [{ file: folder, message: 'has no manifests (*.yaml or *.yml files)' }] };
  }
  const documents: ParsedDocument[] = [];
  const texts = new Map<string, string>();
  for (const [file, read] of await readAll(files, manifestFiles)) {
    if (read.ok) texts.set(file, read.text);
    else problems.push(read.problem);
  }
  const variables = await readVariables(files, folder, environmentPreview(texts), problems);
  const parse = (file: string, text: string) => parseYamlFile(file, text, { transform: (doc, position) => interpolateDocument(doc, file, variables.scope, position) });
  for (const [file, text] of texts) {
    const parsed = parse(file, text);
    problems.push(...parsed.problems);
    if (parsed.documents.length === 0 && parsed.problems.length === 0) {
      problems.push({ file, message: 'is empty: expected at least one manifest (kind: Environment or Service)' });
    }
    documents.push(...parsed.documents);
  }
  const data = dataFiles(documents);
  if (data.size > 0) {
    const manifestsOnly = documents.filter((d) => !data.has(d.file));
    documents.splice(0, documents.length, ...manifestsOnly);
    const kept = problems.filter((p) => !data.has(p.file));
    problems.splice(0, problems.length, ...kept);
  }
  documents.splice(0, documents.length, ...(await resolveExtends(documents, { files, parse, problems })));
  const { environments, services: rawServices, environmentDocs, invalidServices } = classify(documents, validators, problems);
  const env = checkEnvironment(name, folder, environments, environmentDocs, problems);
  const envFiles = await readEnvFiles(rawServices, files, problems);
  const repoFiles = await readBoundFiles(rawServices as unknown as { doc: ParsedDocument; raw: { volumes?: unknown[] } }[], files);
  if (env) {
    const configs = await readConfigs(env.doc, (env.doc.value as { configs?: Record<string, { file?: string; content?: string }> }).configs, files, problems);
    if (configs) env.environment.configs = configs;
  }
  const services: { doc: ParsedDocument; service: ServiceManifest }[] = rawServices.map(({ doc, raw }) => ({
    doc,
    service: normalizeService(raw, {
      file: doc.file,
      line: doc.locate([]).line,
      environment: env?.environment,
      envFiles,
      variables: variables.scope,
      repoFiles,
      report: reporterFor(doc, problems),
    }),
  }));
  problems.push(...crossCheckServices(services, env, invalidServices));
  const active = activeServices(services, env?.environment, problems);
  problems.sort(compareProblems);
  // A base Service that extends shares its own problems with the service merged from it: report each once.
  const unique = problems.filter((p, i) => i === 0 || formatProblem(p) !== formatProblem(problems[i - 1]!));
  problems.splice(0, problems.length, ...unique);
  if (problems.length > 0 || !env) return { name, problems };
  return { name, problems, loaded: { name, environment: env.environment, services: active.map((s) => s.service) } };
}

export interface RepoLoad {
  environments: EnvironmentLoad[];
  /** Every problem of every environment plus repo-level ones, sorted. */
  problems: Problem[];
}

/** Loads every environment (or only `only`) and checks what spans environments: promotion.from. */
export async function loadRepo(files: RepoFiles, validators: SchemaValidators, only?: readonly string[]): Promise<RepoLoad> {
  const problems: Problem[] = [];
  const outside = await files.leavesRepo?.(environmentsDir);
  if (outside) return { environments: [], problems: [{ file: environmentsDir, message: `is a link that leaves the config repo (to ${outside}): refused, not read` }] };
  const names = await files.listDirs(environmentsDir);
  if (names.length === 0) problems.push({ file: environmentsDir, message: 'has no environment folders (expected environments/<name>/)' });
  for (const wanted of only ?? []) {
    if (!names.includes(wanted)) {
      const suggestion = didYouMean(wanted, names);
      problems.push({ file: `${environmentsDir}/${wanted}`, message: `does not exist (environments here: ${names.join(', ') || 'none'})${suggestion ? `; did you mean "${suggestion}"?` : ''}` });
    }
  }
  const selected = only ? names.filter((n) => only.includes(n)) : names;
  const environments = await Promise.all(selected.map((name) => loadEnvironment(files, name, validators)));
  for (const load of environments) {
    problems.push(...load.problems);
    const env: EnvironmentManifest | undefined = load.loaded?.environment;
    const from = env?.promotion.from;
    if (env && from && !names.includes(from)) {
      const suggestion = didYouMean(from, names);
      problems.push({
        file: env.file,
        path: '/promotion/from',
        message: `names environment "${from}", which does not exist (environments here: ${names.join(', ')})${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
      });
    }
  }
  problems.sort(compareProblems);
  return { environments, problems };
}
