import { emptyEnvironment } from '../../../src/daemon/status.js';
import type { PageEnvironment, PageStatus } from '../../../src/server/page/view.js';

export const revA = '1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
export const revB = '2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

export function env(name: string, over: Partial<PageEnvironment> = {}): PageEnvironment {
  return { ...emptyEnvironment(name), state: 'synced', revision: { desired: revB, applied: revB, lastGood: revB }, ...over };
}

const svc = (name: string, image: string, desiredImage = image) => ({ name, image, desiredImage, state: 'running', health: 'healthy', lastAction: null });

/** dev → qa → live, given in alphabetical order (dev, live, qa) so order must come from the gates. */
export function pipelineStatus(): PageStatus {
  return {
    ready: true,
    repo: 'git://127.0.0.1:9418/config.git',
    branch: 'main',
    remote: { head: revB, checkedAt: '2026-11-29T16:00:00.000Z', error: null },
    environments: [
      env('dev', {
        services: [svc('web', 'shop/web:2')],
        lastMarker: {
          result: 'passed',
          revision: revB,
          at: '2026-11-29T16:00:00Z',
          commit: 'ccccccc0000000000000000000000000000000000',
          tests: 'passed 2/2 tests',
          images: [{ service: 'web', image: 'shop/web:2' }],
          results: [
            { name: 'homepage answers', result: 'passed', message: '200 from GET http://127.0.0.1:1/' },
            { name: 'worker alive', result: 'passed', message: 'exited 0' },
          ],
        },
      }),
      env('live', {
        state: 'blocked',
        gate: { from: 'qa', state: 'blocked' },
        blocked: ['web: shop/web:3 has no passing marker in qa'],
        services: [svc('web', 'shop/web:1', 'shop/web:3')],
        decisions: [{ at: '2026-11-29T16:01:00Z', kind: 'block', revision: revB, reason: 'revision 2222222 blocked by the gate from qa' }],
      }),
      env('qa', {
        gate: { from: 'dev', state: 'open' },
        services: [svc('web', 'shop/web:1')],
        lastMarker: { result: 'passed', revision: revA, at: '2026-11-29T15:00:00Z', commit: 'ddddddd000000000000000000000000000000000', tests: 'passed 1/1 tests', images: [{ service: 'web', image: 'shop/web:1' }] },
        proposals: [{ branch: 'stagecoach/promote/qa', commit: 'eeeeeee000000000000000000000000000000000', images: ['web=shop/web:2'], at: '2026-11-29T16:00:01Z' }],
      }),
    ],
  };
}
