import { describe, expect, it } from 'vitest';
import { DeployError } from '../../../src/errors.js';
import { ensureEnvironmentNetworks, networkDefinitionLabel } from '../../../src/reconcile/networks.js';
import { FakeRuntime } from '../../support/fake-runtime.js';
import { envYaml, loadOne, serviceYaml } from '../manifest/support.js';

const load = (def: string) =>
  loadOne({
    'environments/testing/environment.yaml': envYaml('testing', `networks:\n  back: {${def}}\n`),
    'environments/testing/web.yaml': serviceYaml('web', 'networks: [back]\n'),
  });

describe('a network whose definition changed in git', () => {
  it('is created labelled with its definition; the same definition again is a no-op', async () => {
    const runtime = new FakeRuntime();
    const env = await load('');
    await ensureEnvironmentNetworks(runtime, env);
    await ensureEnvironmentNetworks(runtime, env);
    expect(runtime.writes).toEqual(['network stagecoach-testing-back']);
    expect(runtime.networkLabelsByName.get('stagecoach-testing-back')?.[networkDefinitionLabel]).toBe(env.environment.networks!.back!.digest);
  });

  it('is refused before anything is touched, naming the network, the file and the two ways on', async () => {
    const runtime = new FakeRuntime();
    await ensureEnvironmentNetworks(runtime, await load(''));
    const changed = ensureEnvironmentNetworks(runtime, await load(' internal: true '));
    await expect(changed).rejects.toBeInstanceOf(DeployError);
    await expect(changed).rejects.toThrow(
      /network stagecoach-testing-back \(networks\.back in environments\/testing\/environment\.yaml\) was created from another definition .* give the network a new key .*docker network rm stagecoach-testing-back/,
    );
    expect(runtime.writes).toEqual(['network stagecoach-testing-back']);
  });

  it('one created before definitions were labelled is kept as it is', async () => {
    const runtime = new FakeRuntime();
    await runtime.ensureNetwork('stagecoach-testing-back', { 'io.stagecoach.managed': 'true' });
    await expect(ensureEnvironmentNetworks(runtime, await load(' internal: true '))).resolves.toBeUndefined();
  });
});
