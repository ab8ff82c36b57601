import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/settings.js';
import { compileSchemas } from '../../../src/manifest/schemas.js';

const validators = compileSchemas();
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stagecoach-registry-settings-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('settings: registries', () => {
  it('reads a poll interval per registry host', async () => {
    await writeFile(path.join(dir, 'ok.yaml'), 'registries:\n  docker.io: { interval: 10m }\n  127.0.0.1:5000: { interval: 5s }\n  quiet.example.com: {}\n');
    expect(loadSettings({ config: 'ok.yaml' }, {}, dir, validators).registryIntervalsMs).toEqual({ 'docker.io': 600_000, '127.0.0.1:5000': 5_000 });
  });

  it.each([
    ['registries:\n  docker.io: { interval: often }\n', 'settings.yaml:2:26: /registries/docker.io/interval must be a duration like 30s or 5m (got "often")'],
    ['registries:\n  docker.io: { password: x }\n', /\/registries\/docker\.io\/password is not a known field/],
    ['registries:\n  "https://docker.io": { interval: 1m }\n', /\/registries.* must match pattern|property name/],
  ])('refuses %j', async (text, message) => {
    await writeFile(path.join(dir, 'settings.yaml'), text);
    expect(() => loadSettings({ config: 'settings.yaml' }, {}, dir, validators)).toThrow(message);
  });
});
