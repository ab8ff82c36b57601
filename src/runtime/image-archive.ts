import type Docker from 'dockerode';
import { DockerError } from '../errors.js';
import { engineMessage, errorText, isConnectionError } from './docker-errors.js';

interface LoadItem { stream?: string; error?: string; errorDetail?: { message?: string } }

function failure(host: string, what: string, err: unknown): DockerError {
  if (isConnectionError(err)) return new DockerError(`docker at ${host}: cannot ${what}: engine unreachable (${errorText(err)})`, { cause: err, transient: true });
  return new DockerError(`docker at ${host}: cannot ${what}: ${engineMessage(err)}`, { cause: err, transient: false });
}

/** `docker save REF`: the engine's tar archive of the image, as the response stream (never read whole). */
export async function saveImage(docker: Docker, host: string, ref: string): Promise<NodeJS.ReadableStream> {
  try {
    return await docker.getImage(ref).get();
  } catch (err) {
    throw failure(host, `export image ${ref}`, err);
  }
}

/**
 * `docker load`: streams `archive` into the engine as the request body and
 * reads its progress answer. The engine reports a bad archive as an error item
 * in that answer (HTTP 200), so items are checked, as for pulls.
 */
export async function loadImage(docker: Docker, host: string, archive: NodeJS.ReadableStream, what: string): Promise<void> {
  // A source that breaks off mid-archive (its engine went away) fails the load instead of leaving it waiting.
  const broken = new Promise<never>((_, reject) => archive.once('error', (err: Error) => reject(new Error(`the archive broke off: ${errorText(err)}`, { cause: err }))));
  broken.catch(() => undefined);
  try {
    const answer = await Promise.race([docker.loadImage(archive, { quiet: true }), broken]);
    const items = await Promise.race([broken, new Promise<LoadItem[]>((resolve, reject) => docker.modem.followProgress(answer, (err: Error | null, out: LoadItem[]) => (err ? reject(err) : resolve(out))))]);
    const failed = items.find((item) => item.error !== undefined || item.errorDetail !== undefined);
    if (failed) throw new Error(failed.error ?? failed.errorDetail?.message ?? 'load failed');
  } catch (err) {
    throw failure(host, `load ${what}`, err);
  }
}
