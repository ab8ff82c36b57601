import { gitIn } from '../git/git-cli.js';

/** The keys the operator trusts, from the daemon settings (never from the repo). */
export interface TrustedKeys {
  /** SSH allowed_signers file. */
  allowedSigners?: string;
  /** GnuPG home whose keys are trusted for OpenPGP signatures. */
  openpgpKeyring?: string;
}

export type SignatureVerdict = { trusted: true; signer: string } | { trusted: false; why: string };

/** git's %G? letter, the key fingerprint (%GF) and the signer (%GS) of one commit. */
export interface SignatureFacts {
  status: string;
  fingerprint: string;
  signer: string;
}

/**
 * Whether a commit's signature is one the operator trusts. SSH: only a good
 * signature by a key in allowed_signers (git says G). OpenPGP: a good
 * signature by a key in the operator's keyring (G, or U: the keyring is
 * dedicated, so holding the key is the trust). Pure; every refusal says why.
 */
export function judgeSignature(facts: SignatureFacts, keys: TrustedKeys): SignatureVerdict {
  const ssh = facts.fingerprint.startsWith('SHA256:');
  const key = facts.fingerprint ? `${ssh ? 'SSH' : 'OpenPGP'} key ${facts.fingerprint}` : 'an unknown key';
  switch (facts.status) {
    case 'G':
      return { trusted: true, signer: facts.signer || facts.fingerprint };
    case 'U':
      if (!ssh && keys.openpgpKeyring) return { trusted: true, signer: facts.signer || facts.fingerprint };
      return { trusted: false, why: ssh ? `signed by ${key}, which trust.allowedSigners does not list` : `signed by ${key}, but no trust.openpgpKeyring is configured` };
    case 'N':
      return { trusted: false, why: 'not signed' };
    case 'B':
      return { trusted: false, why: `bad signature by ${key} (the commit was changed after signing)` };
    case 'E':
      return { trusted: false, why: `signed by ${key}, which is not in ${ssh ? 'trust.allowedSigners' : 'trust.openpgpKeyring'}` };
    case 'X':
    case 'Y':
      return { trusted: false, why: `signed by ${key}, which has expired` };
    case 'R':
      return { trusted: false, why: `signed by ${key}, which was revoked` };
    default:
      return { trusted: false, why: `signature status ${JSON.stringify(facts.status)} from git` };
  }
}

const format = '%H%x1f%G?%x1f%GF%x1f%GS%x1f%GK%x1e';

/**
 * Checks the signatures of commits with the real `git` (ssh-keygen for SSH,
 * gpg for OpenPGP), against the operator's keys only: an empty keyring and
 * /dev/null allowed signers when none are configured, never the user's own.
 */
export async function commitSignatures(dir: string, commits: readonly string[], keys: TrustedKeys): Promise<Map<string, SignatureVerdict>> {
  const verdicts = new Map<string, SignatureVerdict>();
  if (commits.length === 0) return verdicts;
  const git = gitIn(dir).env('GNUPGHOME', keys.openpgpKeyring ?? '/nonexistent/stagecoach-no-keyring');
  const out = await git.raw(['-c', `gpg.ssh.allowedSignersFile=${keys.allowedSigners ?? '/dev/null'}`, 'log', '--no-walk=unsorted', `--format=${format}`, ...commits]);
  for (const record of out.split('\x1e')) {
    const [commit, status = '', fingerprint = '', signer = '', keyId = ''] = record.trim().split('\x1f');
    // %GF is empty when the key is unknown; %GK still names it.
    if (commit) verdicts.set(commit, judgeSignature({ status, fingerprint: fingerprint || keyId, signer }, keys));
  }
  return verdicts;
}
