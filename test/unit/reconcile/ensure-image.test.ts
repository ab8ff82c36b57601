import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureBusyboxImage, exampleImages, isStaticElf } from '../../../src/runtime/ensure-image.js';
import { FakeRuntime } from '../../support/fake-runtime.js';

const image = 'stagecoach-test/busybox:1.35';
const busybox = ['/bin/busybox', '/usr/bin/busybox'];

describe('ensureBusyboxImage', () => {
  it('does nothing when the image is there', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage(image);
    const said: string[] = [];
    expect(await ensureBusyboxImage(runtime, image, { say: (l) => said.push(l) })).toBe('present');
    expect([runtime.writes, said]).toEqual([[], []]);
  });

  it('builds a stand-in from busybox-static when the pull fails, and says so', async () => {
    const runtime = new FakeRuntime();
    const said: string[] = [];
    const outcome = await ensureBusyboxImage(runtime, image, { say: (l) => said.push(l), packageVersion: async () => '1:1.35.0-4+b3' });
    expect(outcome).toBe('built');
    expect(runtime.writes).toEqual([`pull ${image}`, `build ${image} from Dockerfile, busybox`]);
    expect(said[0]).toMatch(/^stagecoach-test\/busybox:1.35 is missing and could not be pulled \(pull access denied .*\): building a local stand-in from Debian's busybox-static 1:1.35.0-4\+b3 \(\/(usr\/)?bin\/busybox\)$/);
    expect(said[1]).toContain("built stagecoach-test/busybox:1.35: Local stand-in for stagecoach-test/busybox:1.35 built from Debian's busybox-static");
    expect(await runtime.inspectImage(image)).toBeDefined();
  });

  it('pulls when a registry answers', async () => {
    const runtime = new FakeRuntime();
    runtime.pullImage = async (ref) => runtime.addImage(ref);
    const said: string[] = [];
    expect(await ensureBusyboxImage(runtime, image, { say: (l) => said.push(l) })).toBe('pulled');
    expect(said).toEqual([`${image} was missing: pulled it`]);
  });

  it('names the package to install when there is no static busybox', async () => {
    const runtime = new FakeRuntime();
    await expect(ensureBusyboxImage(runtime, image, { say: () => undefined, busyboxPaths: ['/nonexistent/busybox', process.execPath] })).rejects.toThrow(
      /no static busybox was found at \/nonexistent\/busybox or .*: install Debian's busybox-static \(apt-get install busybox-static\)/,
    );
  });

  it('tells a static ELF from a dynamic one', async () => {
    expect(await isStaticElf(process.execPath)).toBe(false);
    const found = await Promise.all(busybox.map((f) => isStaticElf(f).catch(() => false)));
    expect(found).toContain(true); // busybox-static is installed on these machines (and by .ci/run)
  });

  it('lists every image the bundled example runs', async () => {
    const root = path.resolve('environments');
    const images = new Set<string>();
    for (const env of await readdir(root)) {
      for (const file of await readdir(path.join(root, env))) {
        for (const m of (await readFile(path.join(root, env, file), 'utf8')).matchAll(/^image:\s*(\S+)/gm)) images.add(m[1]!);
      }
    }
    expect([...images].sort()).toEqual([...exampleImages].sort());
  });
});
