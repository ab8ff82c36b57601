import { describe, expect, it } from 'vitest';
import { planBumps } from '../../../src/images/plan-bumps.js';
import type { RequestedBump } from '../../../src/images/plan-bumps.js';
import { memoryRepo } from '../../../src/manifest/files.js';
import { compileSchemas } from '../../../src/manifest/schemas.js';
import { envYaml } from '../manifest/support.js';

const validators = compileSchemas();
const R = '127.0.0.1:5000/app';
const two = `apiVersion: stagecoach/v1
kind: Service
name: web
image: '${R}:1.0.0'  # keep me
---
apiVersion: stagecoach/v1
kind: Service
name: worker
image: ${R}
`;
const files = () => memoryRepo({ 'environments/auto/environment.yaml': envYaml('auto'), 'environments/auto/svc.yaml': two });
const bump = (service: string, to: string, from?: string): RequestedBump => ({ service, to, policy: 'semver ^1', ...(from ? { from } : {}) });

describe('planBumps', () => {
  it.each<[string, RequestedBump[], Record<string, string>, string[]]>([
    ['one line, quotes and comment kept', [bump('web', `${R}:1.0.1`, `${R}:1.0.0`)], { 'environments/auto/svc.yaml': two.replace(`'${R}:1.0.0'`, `'${R}:1.0.1'`) }, []],
    ['implicit latest matches from', [bump('worker', `${R}:latest@sha256:${'a'.repeat(64)}`, `${R}:latest`)], { 'environments/auto/svc.yaml': two.replace(`image: ${R}\n`, `image: ${R}:latest@sha256:${'a'.repeat(64)}\n`) }, []],
    ['already there', [bump('web', `${R}:1.0.0`)], {}, []],
    ['moved since the check', [bump('web', `${R}:1.0.2`, `${R}:0.9.0`)], {}, ['web']],
    ['unknown service', [bump('api', `${R}:1.0.2`)], {}, ['api']],
  ])('%s', async (_name, bumps, changes, skipped) => {
    const plan = await planBumps(files(), 'auto', bumps, validators);
    expect(plan.changes).toEqual(changes);
    expect(plan.skipped.map((s) => s.service)).toEqual(skipped);
    expect(plan.problems).toEqual([]);
  });

  it('refuses a result that does not load, changing nothing', async () => {
    const plan = await planBumps(files(), 'auto', [bump('web', 'app:bad tag')], validators);
    expect(plan.changes).toEqual({});
    expect(plan.applied).toEqual([]);
    expect(plan.problems[0]).toMatchObject({ file: 'environments/auto/svc.yaml', line: 4, path: '/image' });
  });

  it('asks the guard with the current and next image', async () => {
    const asked: string[] = [];
    const plan = await planBumps(files(), 'auto', [bump('web', `${R}:0.1.0`)], validators, (s, current, next) => (asked.push(`${s} ${current} ${next}`), 'no'));
    expect(asked).toEqual([`web ${R}:1.0.0 ${R}:0.1.0`]);
    expect(plan.skipped).toEqual([{ service: 'web', reason: 'no' }]);
  });
});
