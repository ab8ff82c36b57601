import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ContainerRuntime } from './types.js';

/** Every image the bundled example (environments/) runs; test/unit keeps this list honest. */
export const exampleImages = ['busybox:1.35'] as const;

/** Bump when the stand-in's layout changes: an older stand-in is then rebuilt (scripts/build-local-images.sh uses the same number). */
export const standinLayout = '2';

export const ensureOutcomes = ['present', 'pulled', 'built'] as const;
export type EnsureOutcome = (typeof ensureOutcomes)[number];

export interface EnsureOptions {
  /** One line per thing done, for the person starting stagecoach. */
  say: (line: string) => void;
  /** Where Debian's busybox-static is looked for. */
  busyboxPaths?: readonly string[];
  /** The package version, for the image's description (default: asks dpkg-query). */
  packageVersion?: () => Promise<string>;
  pullTimeoutMs?: number;
}

/** True when the ELF file has no PT_INTERP program header, i.e. it needs no dynamic loader (no libc in a scratch image). */
export async function isStaticElf(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(64);
    await handle.read(header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2) return false; // not a 64-bit ELF
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    await handle.read(table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) if (table.readUInt32LE(i * phentsize) === 3) return false;
    return true;
  } finally {
    await handle.close();
  }
}

async function debianVersion(): Promise<string> {
  const { stdout } = await promisify(execFile)('dpkg-query', ['-W', '-f=${Version}', 'busybox-static']);
  return stdout.trim();
}

function dockerfile(image: string, description: string): string {
  return [
    'FROM scratch',
    'COPY busybox /bin/busybox',
    'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
    `RUN ["/bin/sh", "-c", "mkdir -p /tmp /var /etc /root /home /usr/bin /usr/sbin && chmod 1777 /tmp && echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd && echo 'root:x:0:' > /etc/group"]`,
    `LABEL org.opencontainers.image.description=${JSON.stringify(description)} io.stagecoach.local-standin="true" io.stagecoach.standin-layout="${standinLayout}"`,
    'CMD ["sh"]',
    '',
  ].join('\n');
}

async function pullWithin(runtime: ContainerRuntime, image: string, ms: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer within ${ms / 1000} s`), ms)));
  try {
    return await Promise.race([runtime.pullImage(image).then(() => undefined, (error: Error) => error.message), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Makes sure a busybox image the example needs exists: present → nothing;
 * else pull; else build a same-named stand-in from Debian's busybox-static
 * (FROM scratch + the static binary and its applet links), as
 * scripts/build-local-images.sh does for CI. Says what it did.
 */
export async function ensureBusyboxImage(runtime: ContainerRuntime, image: string, options: EnsureOptions): Promise<EnsureOutcome> {
  if (await runtime.inspectImage(image)) return 'present';
  const failure = await pullWithin(runtime, image, options.pullTimeoutMs ?? 20_000);
  if (failure === undefined) {
    options.say(`${image} was missing: pulled it`);
    return 'pulled';
  }
  if (!runtime.buildImage) throw new Error(`${image} is missing and could not be pulled (${failure}); this engine adapter cannot build a stand-in`);
  const candidates = options.busyboxPaths ?? ['/bin/busybox', '/usr/bin/busybox'];
  let binary: string | undefined;
  for (const file of candidates) if (await isStaticElf(file).catch(() => false)) binary = binary ?? file;
  if (!binary) {
    throw new Error(`${image} is missing, could not be pulled (${failure}), and no static busybox was found at ${candidates.join(' or ')} to build a stand-in: install Debian's busybox-static (apt-get install busybox-static) or run scripts/build-local-images.sh`);
  }
  const version = await (options.packageVersion ?? debianVersion)().catch(() => 'unknown');
  const description = `Local stand-in for ${image} built from Debian's busybox-static ${version}; not the Docker Hub image`;
  options.say(`${image} is missing and could not be pulled (${failure}): building a local stand-in from Debian's busybox-static ${version} (${binary})`);
  const dir = await mkdtemp(path.join(tmpdir(), 'stagecoach-busybox-'));
  try {
    await copyFile(binary, path.join(dir, 'busybox'));
    await writeFile(path.join(dir, 'Dockerfile'), dockerfile(image, description));
    await runtime.buildImage(dir, ['Dockerfile', 'busybox'], image);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  options.say(`built ${image}: ${description}`);
  return 'built';
}

/** The one-line hook for `stagecoach run` with the bundled example: every image it runs is there afterwards. */
export async function ensureExampleImages(runtime: ContainerRuntime, say: (line: string) => void): Promise<void> {
  for (const image of exampleImages) await ensureBusyboxImage(runtime, image, { say: (line) => say(`stagecoach: ${line}`) });
}
