import type { GitReader } from '../git/ports.js';
import { environmentsDir, loadRepo } from '../manifest/load.js';
import type { EnvironmentLoad } from '../manifest/load.js';
import type { Problem } from '../manifest/problem.js';
import type { SchemaValidators } from '../manifest/schemas.js';
import type { LoadedEnvironment } from '../manifest/types.js';
import type { Metrics } from './metrics.js';

/** One environment at one revision: its tree id (the key of its desired state) and what loading it gave. */
export interface EnvironmentAt {
  name: string;
  /** null: the folder does not exist at this revision. */
  tree: string | null;
  /** The newest commit that changed the folder: the revision this environment's desired state comes from. */
  revision: string;
  load: EnvironmentLoad;
  /** Problems of this environment that span environments (promotion.from naming one that does not exist). */
  problems: Problem[];
}

const missing = (name: string, names: string[]): EnvironmentLoad => ({
  name,
  problems: [{ file: `${environmentsDir}/${name}`, message: `does not exist (environments here: ${names.join(', ') || 'none'})` }],
});

/**
 * Desired state keyed by each environment's git tree: `environments/<env>` at
 * a revision, read from git objects. An environment whose tree did not change
 * is not loaded again (the daemon compares the tree with the one it last acted
 * on): a marker commit, or a change to another environment, changes nothing for it.
 */
export class DesiredState {
  private readonly seen = new Map<string, EnvironmentAt>();

  constructor(private readonly deps: { git: GitReader; validators: SchemaValidators; metrics: Metrics }) {}

  /** Every environment at `revision` (or those named in `only`, which may not exist). */
  async at(revision: string, only: readonly string[] | undefined): Promise<EnvironmentAt[]> {
    const trees = await this.deps.git.subtrees(revision, environmentsDir);
    const names = Object.keys(trees).sort();
    const stale = names.filter((n) => this.seen.get(n)?.tree !== trees[n]);
    const loaded = stale.length ? await loadRepo(this.deps.git.files(revision), this.deps.validators, stale) : { environments: [], problems: [] };
    for (const load of loaded.environments) {
      this.deps.metrics.loads.inc({ environment: load.name });
      const problems = loaded.problems.filter((p) => !load.problems.includes(p) && (p.file.startsWith(`${environmentsDir}/${load.name}/`) || p.file === `${environmentsDir}/${load.name}`));
      const [last] = await this.deps.git.log({ revision, paths: [`${environmentsDir}/${load.name}`], limit: 1 });
      this.seen.set(load.name, { name: load.name, tree: trees[load.name]!, revision: last?.commit ?? revision, load, problems });
    }
    const result: EnvironmentAt[] = [];
    for (const name of [...new Set([...names, ...(only ?? [])])].sort()) {
      if (!(name in trees)) {
        this.seen.delete(name);
        if (only?.includes(name)) result.push({ name, tree: null, revision, load: missing(name, names), problems: [] });
        continue;
      }
      const entry = this.seen.get(name)!;
      result.push(entry);
    }
    return only ? result.filter((e) => only.includes(e.name)) : result;
  }

  /** True when one of `names` has a different tree at `to` than at `from`. */
  async changedBetween(from: string, to: string, names: readonly string[]): Promise<boolean> {
    const [before, after] = await Promise.all([this.deps.git.subtrees(from, environmentsDir), this.deps.git.subtrees(to, environmentsDir)]);
    return names.some((n) => before[n] !== after[n]);
  }

  /** Every valid environment last seen (also those another daemon manages): promotion targets. */
  all(): LoadedEnvironment[] {
    return [...this.seen.values()].flatMap((e) => (e.load.loaded ? [e.load.loaded] : []));
  }
}
