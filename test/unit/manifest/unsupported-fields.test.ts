import { describe, expect, it } from 'vitest';
import { unsupportedFields } from '../../../src/manifest/refusals.js';
import { envYaml, loadOne, problemsOf, serviceYaml } from './support.js';

const env = envYaml();

describe('compose fields stagecoach does not create containers with', () => {
  it('a shared compose file may keep develop and attach: extends does not inherit them', async () => {
    const base = 'services:\n  base:\n    image: busybox:1.35\n    user: nobody\n    attach: false\n    develop:\n      watch:\n        - { action: sync, path: ./src, target: /app/src }\n';
    const loaded = await loadOne({ 'environments/testing/environment.yaml': env, 'environments/testing/common.yml': base, 'environments/testing/web.yaml': 'apiVersion: stagecoach/v1\nkind: Service\nname: web\nextends: { file: common.yml, service: base }\n' });
    const s = loaded.services[0]!.spec;
    expect(s.options?.user).toBe('nobody');
  });

  it.each(Object.entries(unsupportedFields))('%s in a manifest is refused with its reason, naming file, line and column', async (field, reason) => {
    const problems = await problemsOf({ 'environments/testing/environment.yaml': env, 'environments/testing/web.yaml': serviceYaml('web', `${field}: x\n`) });
    expect(problems).toEqual([`environments/testing/web.yaml:5:1: /${field} ${reason} (got "x")`]);
  });
});
