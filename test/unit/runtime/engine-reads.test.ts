import Docker from 'dockerode';
import type Modem from 'docker-modem';
import { describe, expect, it } from 'vitest';
import { directReadsOf, dockerClientFor, lazyDockerode } from '../../../src/runtime/connect.js';
import { engineReads } from '../../../src/runtime/engine-reads.js';

/** A modem that records what it is asked to send and answers `{}`. */
function recordingModem() {
  const sent: Record<string, unknown>[] = [];
  const modem = {
    Promise,
    dial(options: Record<string, unknown>, callback: (err: Error | null, data?: unknown) => void) {
      const { abortSignal: _signal, ...rest } = options;
      sent.push(rest);
      callback(null, {});
    },
  };
  return { modem: modem as unknown as Modem, sent };
}

describe('engineReads sends what dockerode sends, without loading dockerode', () => {
  it.each<[string, (reads: ReturnType<typeof engineReads>) => Promise<unknown>, (docker: Docker) => Promise<unknown>]>([
    ['list containers', (r) => r.listContainers({ all: true, filters: { label: ['a=b'] } }), (d) => d.listContainers({ all: true, filters: { label: ['a=b'] } })],
    ['inspect a container', (r) => r.inspectContainer('c0ffee'), (d) => d.getContainer('c0ffee').inspect()],
    ['inspect an image', (r) => r.inspectImage('busybox:1.35'), (d) => d.getImage('busybox:1.35').inspect()],
    ['the engine version', (r) => r.version(), (d) => d.version()],
  ])('%s', async (_name, ours, theirs) => {
    const a = recordingModem();
    const b = recordingModem();
    await ours(engineReads(a.modem));
    await theirs(new Docker({ modem: b.modem } as Docker.DockerOptions));
    expect(a.sent).toEqual(b.sent);
    expect(a.sent).toHaveLength(1);
  });

  it('a 404 reaches the caller as dockerode would give it (statusCode kept)', async () => {
    const modem = { dial: (_o: unknown, cb: (err: Error) => void) => cb(Object.assign(new Error('no such container'), { statusCode: 404 })) } as unknown as Modem;
    await expect(engineReads(modem).inspectContainer('gone')).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe('lazyDockerode', () => {
  it('hands out its modem as is, and sends any other call through dockerode over that modem', async () => {
    const { modem, sent } = recordingModem();
    const docker = lazyDockerode(modem);
    expect(docker.modem).toBe(modem);
    await docker.getContainer('c0ffee').start();
    expect(sent).toEqual([expect.objectContaining({ path: '/containers/c0ffee/start?', method: 'POST' })]);
  });

  it('makes a modem given as a function on first use of modem, once, and carries the direct reads it is given', () => {
    const { modem } = recordingModem();
    let made = 0;
    const reads = engineReads(modem);
    const docker = lazyDockerode(() => (made++, modem), reads);
    expect(directReadsOf(docker)).toBe(reads);
    expect(made).toBe(0);
    expect(docker.modem).toBe(modem);
    expect(docker.modem).toBe(modem);
    expect(made).toBe(1);
  });

  it('a client from dockerClientFor reads directly (direct-reads.ts); any other client has no direct reads', () => {
    expect(directReadsOf(dockerClientFor('unix:///run/nothing.sock', undefined, {}).docker)).toBeDefined();
    expect(directReadsOf(lazyDockerode(recordingModem().modem))).toBeUndefined();
  });
});
