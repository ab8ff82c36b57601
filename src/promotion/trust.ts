import type { MarkerVerifier } from './marker-index.js';
import { commitSignatures } from './signing.js';
import type { TrustedKeys } from './signing.js';

/** What the daemon trusts and how it signs, as the settings give it. */
export interface CommitTrust {
  /** SSH key the daemon signs its own commits with. */
  signingKey?: string;
  /** Operator keys; when absent, markers are not checked (and nothing can require a signed head). */
  keys?: TrustedKeys;
  requireSignedHead: boolean;
}

/** A verifier for the marker index: only markers signed by the operator's keys open a gate. Undefined when no keys are configured. */
export function markerVerifier(dir: string, trust: CommitTrust | undefined): MarkerVerifier | undefined {
  const keys = trust?.keys;
  return keys ? (commits) => commitSignatures(dir, commits, keys) : undefined;
}

/** Why the followed head may not deploy (trust.requireSignedHead), or undefined when it may. */
export async function headRefusal(dir: string, head: string, trust: CommitTrust | undefined): Promise<string | undefined> {
  if (!trust?.requireSignedHead) return undefined;
  const verdict = (await commitSignatures(dir, [head], trust.keys ?? {})).get(head);
  if (verdict?.trusted) return undefined;
  return `head commit ${head.slice(0, 7)} is ${verdict ? verdict.why : 'not readable'}; trust.requireSignedHead deploys only commits signed by the operator's keys`;
}

/** What the daemon asks of the trust settings, bound to its clone by the composition root (fakes in unit tests). */
export interface TrustHooks {
  /** Checks marker signatures; undefined = every marker counts. */
  verifyMarkers?: MarkerVerifier;
  /** Why the followed head may not deploy, or undefined when it may. */
  headRefusal(head: string): Promise<string | undefined>;
}

export function trustHooks(dir: string, trust: CommitTrust | undefined): TrustHooks {
  return { verifyMarkers: markerVerifier(dir, trust), headRefusal: (head) => headRefusal(dir, head, trust) };
}
