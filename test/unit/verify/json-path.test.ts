import { describe, expect, it } from 'vitest';
import { readJsonPath } from '../../../src/verify/json-path.js';

const doc = {
  a: { b: 1, c: null, d: false, e: '' },
  items: [{ id: 'x1', tags: ['new', 'sale'] }, { id: 'x2' }],
  'weird key': { 'dotted.name': 'yes' },
  '0': 'zero as a key',
  status: 'ok',
};

describe('readJsonPath', () => {
  it.each([
    ['$.a.b', 1],
    ['a.b', 1],
    ['$.a', { b: 1, c: null, d: false, e: '' }],
    ['$.a.c', null],
    ['$.a.d', false],
    ['$.a.e', ''],
    ['$.status', 'ok'],
    ['items[0].id', 'x1'],
    ['$.items[1].id', 'x2'],
    ['$.items[0].tags[1]', 'sale'],
    ["$['weird key']['dotted.name']", 'yes'],
    ['$["weird key"]["dotted.name"]', 'yes'],
    ['$[0]', 'zero as a key'],
    ['$', doc],
  ])('%s → %j', (path, expected) => {
    expect(readJsonPath(doc, path)).toEqual(expected);
  });

  it.each([
    ['$.missing'],
    ['$.a.missing'],
    ['$.a.b.c'],
    ['$.a.c.d'],
    ['items[5].id'],
    ['items[0].id.length.x'],
    ['$.status.x'],
  ])('%s → undefined', (path) => {
    expect(readJsonPath(doc, path)).toBeUndefined();
  });

  it.each([
    ['a top-level array', [{ id: 'first' }], '$[0].id', 'first'],
    ['a scalar document', 42, '$', 42],
    ['a scalar document, with a path', 42, '$.a', undefined],
    ['null', null, '$.a', undefined],
  ])('reads %s', (_name, value, path, expected) => {
    expect(readJsonPath(value, path)).toEqual(expected);
  });
});
