import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { projectRoot } from './cli.js';

/** Debian's chromium package; `.ci/run` installs it. No browser download is possible here. */
export const chromiumPath = '/usr/bin/chromium';

/** Screenshots and other browser artifacts (ignored by git; CI keeps the folder). */
export const artifactsDir = path.join(projectRoot, 'test-artifacts');

/** Headless Chromium with a fresh profile (Playwright makes a temporary user-data-dir per launch). */
export async function launchChromium(): Promise<Browser> {
  try {
    return await chromium.launch({
      executablePath: chromiumPath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  } catch (error) {
    throw new Error(`cannot start ${chromiumPath} (install Debian's chromium package: apt-get install -y chromium; .ci/run does): ${(error as Error).message}`);
  }
}

export async function artifactPath(...parts: string[]): Promise<string> {
  const file = path.join(artifactsDir, ...parts);
  await mkdir(path.dirname(file), { recursive: true });
  return file;
}
