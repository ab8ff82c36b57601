import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { followContainerEvents } from '../../../src/runtime/event-stream.js';
import type { ContainerEvent } from '../../../src/runtime/types.js';

const line = (action: string, name: string, id = 'abc') => `${JSON.stringify({ Action: action, Actor: { ID: id, Attributes: { name, 'io.stagecoach.environment': 'testing' } } })}\n`;
const tick = () => new Promise((r) => setImmediate(r));

describe('followContainerEvents', () => {
  it('reads events split across chunks, skips foreign lines, and reports the end once', async () => {
    const stream = new PassThrough();
    const events: ContainerEvent[] = [];
    const ends: (Error | undefined)[] = [];
    let opened = 0;
    followContainerEvents(async () => stream, { onEvent: (e) => events.push(e), onEnd: (e) => ends.push(e), onOpen: () => opened++, error: (c) => new Error(`wrapped: ${String(c)}`) });
    await tick();
    const both = line('die', 'testing-web') + line('start', 'testing-web', 'def');
    stream.write(both.slice(0, 30));
    stream.write(both.slice(30));
    stream.write('not json\n');
    stream.end();
    await tick();
    expect(opened).toBe(1);
    expect(events).toEqual([
      { id: 'abc', action: 'die', container: 'testing-web', labels: { 'io.stagecoach.environment': 'testing' } },
      { id: 'def', action: 'start', container: 'testing-web', labels: { 'io.stagecoach.environment': 'testing' } },
    ]);
    expect(ends).toEqual([undefined]);
  });

  it('a stream that cannot open ends with the wrapped error; a closed one says nothing', async () => {
    const ends: (Error | undefined)[] = [];
    followContainerEvents(() => Promise.reject(new Error('connect ECONNREFUSED')), { onEvent: () => undefined, onEnd: (e) => ends.push(e), error: (c) => new Error(`wrapped: ${(c as Error).message}`) });
    await tick();
    expect(ends.map((e) => e?.message)).toEqual(['wrapped: connect ECONNREFUSED']);
    const stream = new PassThrough();
    const after: unknown[] = [];
    const handle = followContainerEvents(async () => stream, { onEvent: (e) => after.push(e), onEnd: (e) => after.push(e ?? 'end'), error: (c) => c as Error });
    await tick();
    handle.close();
    stream.end(line('die', 'x'));
    await tick();
    expect(after).toEqual([]);
  });
});
