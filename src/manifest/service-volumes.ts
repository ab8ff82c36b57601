import path from 'node:path';
import { describeValue } from './problem.js';
import type { Report } from './normalize-service.js';
import { parseSize } from './size.js';
import type { EnvironmentManifest, Mount } from './types.js';
import { compareText } from '../text-order.js';

export interface LongVolume {
  type?: 'volume' | 'bind' | 'tmpfs';
  source?: string;
  target: string;
  read_only?: boolean;
  consistency?: string;
  volume?: { nocopy?: boolean; subpath?: string };
  bind?: { propagation?: string; selinux?: 'z' | 'Z'; create_host_path?: boolean };
  tmpfs?: { size?: number | string; mode?: number | string };
}

const propagations = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];
/** macOS file-sharing hints: no meaning on a Linux engine, accepted as compose accepts them. */
const consistencies = ['cached', 'delegated', 'consistent'];

function isHostPath(source: string): boolean {
  return source.startsWith('/') || source.startsWith('.') || source.startsWith('~');
}

type Parsed = { ok: true; mount: Mount } | { ok: false; reason: string };

/** "SOURCE:TARGET[:OPTIONS]" or "TARGET"; OPTIONS a comma list of ro, rw, z, Z, nocopy, a propagation, a consistency. */
export function parseShortVolume(text: string): Parsed {
  const parts = text.split(':');
  if (parts.length === 1) return { ok: true, mount: { type: 'volume', source: null, target: parts[0]!, readOnly: false } };
  if (parts.length > 3) return { ok: false, reason: 'expected SOURCE:TARGET[:OPTIONS] or TARGET' };
  const [source, target, options = ''] = parts as [string, string, string?];
  const mount: Mount = { type: isHostPath(source) ? 'bind' : 'volume', source, target, readOnly: false };
  for (const option of options.split(',').filter((o) => o !== '')) {
    if (option === 'ro' || option === 'rw') mount.readOnly = option === 'ro';
    else if (option === 'z' || option === 'Z') mount.selinux = option;
    else if (option === 'nocopy') mount.noCopy = true;
    else if (propagations.includes(option)) mount.propagation = option;
    else if (!consistencies.includes(option)) return { ok: false, reason: `option "${option}" is not one of ro, rw, z, Z, nocopy, ${propagations.join(', ')}, ${consistencies.join(', ')}` };
  }
  if (mount.noCopy && mount.type !== 'volume') return { ok: false, reason: 'nocopy applies to a named volume only' };
  if (mount.propagation && mount.type !== 'bind') return { ok: false, reason: `propagation ${mount.propagation} applies to a bind mount only` };
  return { ok: true, mount };
}

export function parseLongVolume(volume: LongVolume): Parsed {
  const type = volume.type ?? (volume.source && isHostPath(volume.source) ? 'bind' : 'volume');
  if (volume.volume?.subpath !== undefined) return { ok: false, reason: 'volume.subpath needs Docker 26 or later; this engine API (1.41) cannot mount a subpath' };
  const mount: Mount = { type, source: type === 'tmpfs' ? null : (volume.source ?? null), target: volume.target, readOnly: volume.read_only ?? false };
  if (volume.volume?.nocopy) mount.noCopy = true;
  if (volume.bind?.propagation) mount.propagation = volume.bind.propagation;
  if (volume.bind?.selinux) mount.selinux = volume.bind.selinux;
  if (volume.tmpfs?.size !== undefined) {
    const size = parseSize(volume.tmpfs.size);
    if (size === undefined) return { ok: false, reason: `tmpfs.size ${describeValue(volume.tmpfs.size)} is not a size` };
    mount.tmpfsBytes = size;
  }
  if (volume.tmpfs?.mode !== undefined) {
    const mode = typeof volume.tmpfs.mode === 'number' ? volume.tmpfs.mode : Number.parseInt(volume.tmpfs.mode, 8);
    if (!Number.isInteger(mode)) return { ok: false, reason: `tmpfs.mode ${describeValue(volume.tmpfs.mode)} is not an octal mode` };
    mount.tmpfsMode = mode;
  }
  if ((volume.volume && type !== 'volume') || (volume.bind && type !== 'bind') || (volume.tmpfs && type !== 'tmpfs')) {
    return { ok: false, reason: `options for another mount type than ${type}` };
  }
  if (type !== 'tmpfs' && mount.source === null && type === 'bind') return { ok: false, reason: 'a bind mount needs a source' };
  return { ok: true, mount };
}

function bindProblem(source: string, allowed: readonly string[]): string | undefined {
  if (!source.startsWith('/')) {
    return `bind mount source ${describeValue(source)} is a path relative to the compose file: stagecoach runs containers on the daemon's Docker host, where the config repo's files are not; for state use a named volume (e.g. "data:/var/lib/app"), for a host path give its absolute path allowed by policy.bindMounts`;
  }
  const normalized = path.posix.normalize(source);
  const permitted = allowed.some((prefix) => {
    const p = path.posix.normalize(prefix).replace(/\/$/, '');
    return normalized === p || normalized.startsWith(`${p}/`);
  });
  if (permitted) return undefined;
  const policy = allowed.length ? `allowed: ${allowed.join(', ')}` : 'allowed: none';
  return `bind mount of host path ${normalized} is not allowed by this environment's policy.bindMounts (${policy})`;
}

/** Takes a relative bind of a repo file (it becomes a file copied in); false when it is not one. */
export type RepoBind = (source: string, target: string, readOnly: boolean, where: (string | number)[]) => void;

export function normalizeVolumes(volumes: readonly (string | LongVolume)[] | undefined, environment: EnvironmentManifest | undefined, report: Report, repoBind?: RepoBind): Mount[] {
  const mounts: Mount[] = [];
  const allowed = environment?.policy.bindMounts ?? [];
  (volumes ?? []).forEach((volume, i) => {
    const parsed = typeof volume === 'string' ? parseShortVolume(volume) : parseLongVolume(volume);
    if (!parsed.ok) {
      report(['volumes', i], `is not a valid volume: ${parsed.reason} (got ${describeValue(volume)})`);
      return;
    }
    let mount = parsed.mount;
    if (!mount.target.startsWith('/')) {
      report(['volumes', i], `target must be an absolute path in the container (got ${describeValue(mount.target)})`);
      return;
    }
    if (mount.type === 'volume' && mount.source !== null) {
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(mount.source)) {
        report(['volumes', i], `volume name must be letters, digits, '_', '.', '-' (got ${describeValue(mount.source)})`);
        return;
      }
      const defined = environment?.volumes?.[mount.source];
      if (defined?.external) mount = { ...mount, source: defined.name, external: true };
    }
    if (mount.type === 'bind' && repoBind && mount.source?.startsWith('.')) {
      repoBind(mount.source, mount.target, mount.readOnly, ['volumes', i]);
      return;
    }
    if (mount.type === 'bind') {
      const problem = bindProblem(mount.source ?? '', allowed);
      if (problem) {
        report(['volumes', i], problem);
        return;
      }
      mount = { ...mount, source: path.posix.normalize(mount.source!) };
    }
    mounts.push(mount);
  });
  return mounts.sort((a, b) => compareText(a.target, b.target));
}
