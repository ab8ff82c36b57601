import type Modem from 'docker-modem';
import type Docker from 'dockerode';

/**
 * The read-only calls `plan` makes (list, inspect, version), sent exactly as
 * dockerode sends them (same paths, options and status handling; dockerode is
 * a thin layer over docker-modem). Loading dockerode costs 0.15–0.2 s at start
 * (it requires @grpc/grpc-js and protobufjs for BuildKit sessions).
 */
export interface EngineReads {
  listContainers(options: Docker.ContainerListOptions): Promise<Docker.ContainerInfo[]>;
  inspectContainer(id: string): Promise<Docker.ContainerInspectInfo>;
  inspectImage(ref: string): Promise<Docker.ImageInspectInfo>;
  version(): Promise<Docker.DockerVersion>;
}

export type Statuses = Record<number, true | string>;

/** One read as dockerode describes it to docker-modem's dial(). */
export interface ReadRequest {
  path: string;
  statusCodes: Statuses;
  options?: object;
}

/** Sends one read; resolves with the engine's parsed answer. */
export type SendRead = (request: ReadRequest) => Promise<unknown>;

/** The four reads over any sender (docker-modem's dial, or direct-reads.ts). */
export function readsOver(send: SendRead): EngineReads {
  const get = <T>(path: string, statusCodes: Statuses, options?: object): Promise<T> => send({ path, statusCodes, ...(options ? { options } : {}) }) as Promise<T>;
  return {
    listContainers: (options) => get('/containers/json?', { 200: true, 400: 'bad parameter', 500: 'server error' }, options),
    inspectContainer: (id) => get(`/containers/${id}/json?`, { 200: true, 404: 'no such container', 500: 'server error' }, {}),
    inspectImage: (ref) => get(`/images/${ref}/json`, { 200: true, 404: 'no such image', 500: 'server error' }, {}),
    version: () => get('/version', { 200: true, 500: 'server error' }),
  };
}

/** The reads through a docker-modem. */
export function engineReads(modem: Modem): EngineReads {
  return readsOver(
    ({ path, statusCodes, options }) =>
      new Promise((resolve, reject) => {
        modem.dial({ path, method: 'GET', ...(options ? { options } : {}), statusCodes }, (err, data) => (err ? reject(err) : resolve(data)));
      }),
  );
}
