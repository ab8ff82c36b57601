import { describe, expect, it } from 'vitest';
import { DockerError } from '../../../src/errors.js';
import { ensureEdgeImage } from '../../../src/proxy/edge-image.js';
import type { EdgeImageSupply } from '../../../src/proxy/edge-image.js';
import { FakeRuntime } from '../../support/fake-runtime.js';

const image = 'haproxy:2.6-alpine';
const remoteHost = 'ssh://deploy@far';

interface Case {
  name: string;
  /** Where the image is at the start. */
  on: ('target' | 'local' | 'registry')[];
  target: 'local' | 'remote';
  builder: boolean;
  localDown?: boolean;
  /** writes on the target, writes on the local engine, what was built where */
  expected: { target: string[]; local: string[]; built: string[] } | { error: string; transient: boolean };
}

const cases: Case[] = [
  { name: 'present on the target: nothing to do', on: ['target'], target: 'remote', builder: true, expected: { target: [], local: [], built: [] } },
  { name: 'pulled where a registry has it', on: ['registry'], target: 'remote', builder: true, expected: { target: [`pull ${image}`], local: [], built: [] } },
  { name: 'the local engine builds its own stand-in', on: [], target: 'local', builder: true, expected: { target: [`pull ${image}`], local: [`pull ${image}`], built: ['fake://engine'] } },
  { name: 'a remote engine gets a copy from the local engine', on: ['local'], target: 'remote', builder: true, expected: { target: [`pull ${image}`, `load ${image}`], local: [`save ${image}`], built: [] } },
  { name: 'built locally first when the local engine lacks it too', on: [], target: 'remote', builder: true, expected: { target: [`pull ${image}`, `load ${image}`], local: [`save ${image}`], built: ['fake://engine'] } },
  { name: 'neither pulled nor built: refused, naming the host and what to do', on: [], target: 'remote', builder: false, expected: { error: `copying it from the local engine fake://engine failed (it is not on the local engine fake://engine either): load it there (docker save ${image} | docker -H ${remoteHost} load)`, transient: false } },
  { name: 'the local engine does not answer: refused, worth retrying', on: ['local'], target: 'remote', builder: true, localDown: true, expected: { error: `copying it from the local engine fake://engine failed (docker at fake://engine: cannot inspect`, transient: true } },
  { name: 'the local engine without a builder: run the script', on: [], target: 'local', builder: false, expected: { error: `the edge proxy image ${image} is not on fake://engine and cannot be pulled (pull access denied for ${image}, repository does not exist): run scripts/build-proxy-image.sh`, transient: false } },
];

describe('ensureEdgeImage: present, pulled, built locally, or copied from the local engine', () => {
  it.each(cases)('$name', async (c) => {
    const local = new FakeRuntime();
    const target = c.target === 'local' ? local : new FakeRuntime(remoteHost);
    if (c.on.includes('local')) local.addImage(image);
    if (c.on.includes('target')) target.addImage(image);
    if (c.on.includes('registry')) target.pullImage = async (ref) => { target.writes.push(`pull ${ref}`); target.addImage(ref); };
    // The fake's inspectImage does not check reachability: a down local engine fails its first call.
    if (c.localDown) local.inspectImage = async () => { throw new DockerError('docker at fake://engine: cannot inspect image: engine unreachable', { transient: true }); };
    const built: string[] = [];
    const supply: EdgeImageSupply = { local, ...(c.builder ? { build: async (ref: string, host: string) => { built.push(host); local.addImage(ref); } } : {}) };
    const said: string[] = [];
    const run = ensureEdgeImage(target, image, supply, (m) => said.push(m));
    if ('error' in c.expected) {
      await expect(run).rejects.toThrow(c.expected.error);
      await run.catch((error: { transient: boolean }) => expect(error.transient).toBe((c.expected as { transient: boolean }).transient));
      return;
    }
    await run;
    expect(await target.inspectImage(image)).toBeDefined();
    expect(target.writes).toEqual(c.expected.target);
    if (target !== local) expect(local.writes).toEqual(c.expected.local);
    expect(built).toEqual(c.expected.built);
    if (c.expected.target.some((w) => w.startsWith('load'))) expect(said.at(-1)).toContain(`cannot be pulled there (pull access denied for ${image}, repository does not exist): copying it from the local engine fake://engine`);
  });
});
