import type { GitReader } from '../git/ports.js';
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
  constructor(
    private readonly git: Pick<GitReader, 'log' | 'isAncestor'>,
    private readonly verify?: MarkerVerifier,
  ) {}

  /** The revision the index was last refreshed to. */
  get revision(): string | null {
    return this.last;
  }

  /**
   * Reads marker commits up to `head` since the last refresh (all of them the
   * first time, or after history was rewritten). Returns how many were read.
   */
  async refresh(head: string): Promise<number> {
    if (head === this.last) return 0;
    if (this.last && !(await this.git.isAncestor(this.last, head))) {
      this.last = null;
      this.envs = new Map();
      this.ignoredByEnv = new Map();
    }
    const entries = await this.git.log({ revision: head, ...(this.last ? { since: this.last } : {}), paths: ['promotions/'], reverse: true });
    const refs: MarkerRef[] = [];
    for (const entry of entries) {
      const parsed = parseTrailers(entry.trailers);
      if (parsed) refs.push({ ...parsed, commit: entry.commit, at: entry.committerDate, author: entry.author });
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
