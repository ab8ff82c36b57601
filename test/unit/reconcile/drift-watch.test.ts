import { describe, expect, it } from 'vitest';
import { DriftWatch } from '../../../src/reconcile/drift-watch.js';
import { FakeRuntime } from '../../support/fake-runtime.js';
import { labels } from '../../../src/runtime/labels.js';

const resyncMs = 300_000;

/** A fake engine with one managed container in each of two environments, and a watch over it. */
function setup() {
  let now = 1_000_000;
  const runtime = new FakeRuntime();
  runtime.addImage('busybox:1.35');
  const make = (environment: string) =>
    runtime.createContainer({ name: `${environment}-web`, image: 'busybox:1.35', labels: { [labels.managed]: 'true', [labels.environment]: environment, [labels.service]: 'web' }, resources: {} } as never);
  const watch = new DriftWatch({ resyncMs, now: () => now, retryMs: 0 });
  const handle = watch.follow(runtime);
  const list = (environment: string) => watch.listed(environment, watch.mark());
  return { runtime, watch, handle, make, list, later: (ms: number) => (now += ms) };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('DriftWatch: when a periodic drift check may skip its list call', () => {
  it('vouches for an environment listed while the stream was open, with no event since', async () => {
    const { watch, list } = setup();
    expect(watch.doubt('staging')).toBe('never listed since the daemon started');
    list('staging');
    expect(watch.doubt('staging')).toBeUndefined();
  });

  it("an event of the environment's containers makes it list; another environment's does not", async () => {
    const { runtime, watch, make, list } = setup();
    const a = await make('staging');
    await make('production');
    list('staging');
    list('production');
    runtime.emit(a, 'die');
    expect(watch.doubt('staging')).toBe('its containers had events since the last listing');
    expect(watch.doubt('production')).toBeUndefined();
    list('staging');
    expect(watch.doubt('staging')).toBeUndefined();
  });

  it.each(['create', 'start', 'stop', 'destroy', 'pause', 'unpause', 'rename', 'update', 'oom', 'health_status: unhealthy'])('a %s event counts', async (action) => {
    const { runtime, watch, make, list } = setup();
    const a = await make('staging');
    list('staging');
    runtime.emit(a, action);
    expect(watch.doubt('staging')).toBeDefined();
  });

  it("a healthcheck's probes (exec events) do not count: they change nothing the list shows", async () => {
    const { runtime, watch, make, list } = setup();
    const a = await make('staging');
    list('staging');
    for (const action of ['exec_create', 'exec_start', 'exec_die']) runtime.emit(a, action);
    expect(watch.doubt('staging')).toBeUndefined();
  });

  it('an event that arrives while the list call is in flight counts as after it', async () => {
    const { runtime, watch, make } = setup();
    const a = await make('staging');
    const mark = watch.mark(); // the list call starts
    runtime.emit(a, 'die'); // the engine said so before the list answered: it may or may not show it
    watch.listed('staging', mark);
    expect(watch.doubt('staging')).toBe('its containers had events since the last listing');
  });

  it('an image event makes every environment list (a tag may have moved)', async () => {
    const { runtime, watch, list } = setup();
    list('staging');
    list('production');
    runtime.emitImage('busybox:1.35', 'tag');
    expect(watch.doubt('staging')).toBe('an image changed on the engine since the last listing');
    expect(watch.doubt('production')).toBe('an image changed on the engine since the last listing');
  });

  it('a managed container without an environment label makes every environment list', async () => {
    const { runtime, watch, list } = setup();
    runtime.addImage('busybox:1.35');
    const stray = await runtime.createContainer({ name: 'stray', image: 'busybox:1.35', labels: { [labels.managed]: 'true' }, resources: {} } as never);
    list('staging');
    runtime.emit(stray, 'start');
    expect(watch.doubt('staging')).toBe('a managed container without an environment label had events since the last listing');
  });

  it('lists at least every resyncMs, however quiet the events', async () => {
    const { watch, list, later } = setup();
    list('staging');
    later(resyncMs - 1);
    expect(watch.doubt('staging')).toBeUndefined();
    later(1);
    expect(watch.doubt('staging')).toBe('last listed 300 s ago (resync every 300 s)');
  });

  it('a stream that ended vouches for nothing, also once it is open again, until the environment is listed anew', async () => {
    const { runtime, watch, list } = setup();
    list('staging');
    runtime.endStreams(new Error('engine restarted'));
    expect(watch.doubt('staging')).toBe("the engine's event stream is not open");
    await tick(); // followed again after retryMs
    expect(runtime.watchers.size).toBe(2);
    expect(watch.doubt('staging')).toBe("the engine's event stream (re)opened after the last listing");
    list('staging');
    expect(watch.doubt('staging')).toBeUndefined();
  });

  it('after close() it vouches for nothing and follows nothing', async () => {
    const { runtime, watch, handle, list } = setup();
    list('staging');
    handle.close();
    expect(watch.doubt('staging')).toBe("the engine's event stream is not open");
    expect(runtime.watchers.size).toBe(0);
  });
});
