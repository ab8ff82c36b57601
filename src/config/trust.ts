import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { Problem } from '../manifest/problem.js';

export interface RawTrust {
  signing?: { key: string };
  trust?: { allowedSigners?: string; openpgpKeyring?: string; requireSignedHead?: boolean };
}

export interface TrustSettings {
  /** SSH private key the daemon signs its marker and promotion commits with; undefined = unsigned commits. */
  signingKey: string | undefined;
  /** SSH allowed_signers file; when set, only markers signed by these keys open a gate. */
  allowedSigners: string | undefined;
  /** GNUPGHOME holding the OpenPGP keys trusted for the followed branch. */
  openpgpKeyring: string | undefined;
  /** Deploy nothing whose head commit lacks a good signature by an allowed key. */
  requireSignedHead: boolean;
}

function readable(file: string | undefined, setting: string, cwd: string, problems: Problem[]): string | undefined {
  if (file === undefined) return undefined;
  const full = path.resolve(cwd, file);
  try {
    accessSync(full, constants.R_OK);
  } catch (error) {
    problems.push({ file: setting, message: `cannot read ${full}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` });
  }
  return full;
}

/** Signing and trust settings: the settings file, then STAGECOACH_SIGNING_KEY / _ALLOWED_SIGNERS / _OPENPGP_KEYRING / _REQUIRE_SIGNED_HEAD. */
export function trustSettings(raw: RawTrust, env: NodeJS.ProcessEnv, cwd: string, problems: Problem[]): TrustSettings {
  const requireEnv = env.STAGECOACH_REQUIRE_SIGNED_HEAD;
  if (requireEnv !== undefined && !['true', 'false'].includes(requireEnv)) problems.push({ file: 'environment', path: 'STAGECOACH_REQUIRE_SIGNED_HEAD', message: `must be true or false (got ${JSON.stringify(requireEnv)})` });
  const settings: TrustSettings = {
    signingKey: readable(env.STAGECOACH_SIGNING_KEY ?? raw.signing?.key, 'signing.key', cwd, problems),
    allowedSigners: readable(env.STAGECOACH_ALLOWED_SIGNERS ?? raw.trust?.allowedSigners, 'trust.allowedSigners', cwd, problems),
    openpgpKeyring: readable(env.STAGECOACH_OPENPGP_KEYRING ?? raw.trust?.openpgpKeyring, 'trust.openpgpKeyring', cwd, problems),
    requireSignedHead: requireEnv !== undefined ? requireEnv === 'true' : (raw.trust?.requireSignedHead ?? false),
  };
  if (settings.requireSignedHead && !settings.allowedSigners && !settings.openpgpKeyring) {
    problems.push({ file: 'trust.requireSignedHead', message: 'needs trust.allowedSigners or trust.openpgpKeyring: the keys a head commit may be signed with' });
  }
  return settings;
}
