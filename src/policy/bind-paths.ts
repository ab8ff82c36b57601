import path from 'node:path';

/** The one file-system question the policy asks: where a host path really leads. Throws ENOENT for a missing path. */
export type RealPath = (p: string) => Promise<string>;

/** Host paths that hand out the Docker engine itself: binding one (or a folder holding one) is a host-level option. */
export const dockerSockets = ['/var/run/docker.sock', '/run/docker.sock'];

/**
 * Where a host path leads after every link is followed: the deepest part
 * that exists is resolved by the file system, the rest appended (Docker
 * creates missing bind sources as folders, so the rest cannot be a link yet).
 */
export async function resolveHostPath(p: string, realpath: RealPath): Promise<string> {
  const normalized = path.posix.normalize(p);
  const rest: string[] = [];
  let current = normalized;
  for (;;) {
    try {
      const real = await realpath(current);
      return rest.length ? path.posix.join(real, ...rest.reverse()) : real;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || current === '/') throw error;
      rest.push(path.posix.basename(current));
      current = path.posix.dirname(current);
    }
  }
}

export function isInside(child: string, parent: string): boolean {
  const p = parent === '/' ? '/' : parent.replace(/\/+$/, '');
  return child === p || child.startsWith(p === '/' ? '/' : `${p}/`);
}

/** True when a resolved bind source is a Docker socket or a folder above one (`/`, `/run`, `/var/run`). */
export function exposesDockerSocket(resolved: string, sockets: readonly string[]): boolean {
  return path.posix.basename(resolved) === 'docker.sock' || sockets.some((s) => isInside(s, resolved));
}
