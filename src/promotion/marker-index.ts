import type { SimpleGit } from 'simple-git';
import { gitIn } from '../source/git.js';
import { parseTrailers } from './marker.js';
import type { MarkerTrailers } from './marker.js';
import type { SignatureVerdict } from './signing.js';

/** Checks the signatures of marker commits; when given, only trusted markers count. */
export type MarkerVerifier = (commits: readonly string[]) => Promise<Map<string, SignatureVerdict>>;

export interface IgnoredMarker {
  commit: string;
  why: string;
}

export interface MarkerRef extends MarkerTrailers {
  commit: string;
  at: string;
  author: string;
}

interface EnvIndex {
  latest?: MarkerRef;
  passingByImage: Map<string, MarkerRef>;
  /** Images whose passing marker recorded no digest: the only ones a known digest may fall back to by reference. */
  passingByImageWithoutDigest: Map<string, MarkerRef>;
  passingByDigest: Map<string, MarkerRef>;
}

const format = '%H%x1f%cI%x1f%an%x1f%(trailers:only,unfold)%x1e';

/**
 * Every marker commit of the config repo, indexed by environment, image and
 * digest. Built once from `git log -- promotions/`, then extended with only
 * the commits since the last refresh, so a gate check does not rescan
 * history as it grows.
 */
export class MarkerIndex {
  private last: string | null = null;
  private envs = new Map<string, EnvIndex>();
  private ignoredByEnv = new Map<string, IgnoredMarker[]>();
  private readonly git: SimpleGit;

  constructor(
    dir: string,
    private readonly verify?: MarkerVerifier,
  ) {
    this.git = gitIn(dir);
  }

  /** Reads marker commits since the last refresh (all of them the first time, or after history was rewritten). Returns how many were read. */
  async refresh(): Promise<number> {
    const head = (await this.git.revparse(['HEAD'])).trim();
    if (head === this.last) return 0;
    // Not `merge-base --is-ancestor`: simple-git resolves on its silent exit 1, so a rewrite would go unnoticed.
    if (this.last && (await this.git.raw(['merge-base', this.last, head]).catch(() => '')).trim() !== this.last) {
      this.last = null;
      this.envs = new Map();
      this.ignoredByEnv = new Map();
    }
    const range = this.last ? `${this.last}..${head}` : head;
    const out = await this.git.raw(['log', '--reverse', `--format=${format}`, range, '--', 'promotions/']);
    const refs: MarkerRef[] = [];
    for (const record of out.split('\x1e')) {
      const [commit, at, author, trailers] = record.replace(/^\n/, '').split('\x1f');
      if (!commit || trailers === undefined) continue;
      const parsed = parseTrailers(trailers);
      if (parsed) refs.push({ ...parsed, commit, at: at ?? '', author: author ?? '' });
    }
    // Trailers anyone can write: with a verifier, only a marker signed by a key the operator trusts counts.
    const verdicts = this.verify ? await this.verify(refs.map((r) => r.commit)) : undefined;
    let count = 0;
    for (const ref of refs) {
      const verdict = verdicts?.get(ref.commit);
      if (verdicts && !verdict?.trusted) {
        const list = this.ignoredByEnv.get(ref.environment) ?? [];
        list.push({ commit: ref.commit, why: verdict && !verdict.trusted ? verdict.why : 'signature not checked' });
        this.ignoredByEnv.set(ref.environment, list.slice(-5));
        continue;
      }
      this.add(ref);
      count++;
    }
    this.last = head;
    return count;
  }

  private add(ref: MarkerRef): void {
    let env = this.envs.get(ref.environment);
    if (!env) {
      env = { passingByImage: new Map(), passingByImageWithoutDigest: new Map(), passingByDigest: new Map() };
      this.envs.set(ref.environment, env);
    }
    env.latest = ref;
    if (ref.result !== 'passed') return;
    for (const image of ref.images) {
      env.passingByImage.set(image.image, ref);
      if (image.digest) env.passingByDigest.set(image.digest, ref);
      else env.passingByImageWithoutDigest.set(image.image, ref);
    }
  }

  /** The newest markers of an environment that were not trusted, and why (at most 5). */
  ignored(environment: string): IgnoredMarker[] {
    return this.ignoredByEnv.get(environment) ?? [];
  }

  latest(environment: string): MarkerRef | undefined {
    return this.envs.get(environment)?.latest;
  }

  /** The newest passing marker of `environment` that ran this image (by digest when known, else by exact reference). */
  passing(environment: string, image: string, digest: string | null): MarkerRef | undefined {
    const env = this.envs.get(environment);
    if (!env) return undefined;
    if (!digest) return env.passingByImage.get(image);
    return env.passingByDigest.get(digest) ?? env.passingByImageWithoutDigest.get(image);
  }
}
