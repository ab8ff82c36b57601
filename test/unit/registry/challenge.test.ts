import { describe, expect, it } from 'vitest';
import { nextLink, parseChallenge, retryAfterMs } from '../../../src/registry/challenge.js';

describe('parseChallenge', () => {
  it.each([
    ['Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"', 'bearer', { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' }],
    ['Basic realm="Registry Realm"', 'basic', { realm: 'Registry Realm' }],
    ['bearer realm=https://x/token, service=reg', 'bearer', { realm: 'https://x/token', service: 'reg' }],
    ['Bearer realm="a\\"b",scope="repository:a:pull,push"', 'bearer', { realm: 'a"b', scope: 'repository:a:pull,push' }],
    ['Negotiate', 'other', {}],
  ])('%s', (header, scheme, params) => {
    expect(parseChallenge(header)).toEqual({ scheme, params });
  });

  it('is undefined without a header', () => {
    expect(parseChallenge(null)).toBeUndefined();
    expect(parseChallenge('')).toBeUndefined();
  });
});

describe('nextLink', () => {
  it.each([
    ['</v2/app/tags/list?last=b&n=2>; rel="next"', 'http://r:5000/v2/app/tags/list?n=2', 'http://r:5000/v2/app/tags/list?last=b&n=2'],
    ['<https://other/v2/x?last=1>; rel=next', 'http://r/v2/x', 'https://other/v2/x?last=1'],
    ['</a>; rel="prev", </b>; rel="next"', 'http://r/', 'http://r/b'],
    ['</a>; rel="prev"', 'http://r/', undefined],
    [null, 'http://r/', undefined],
  ])('%s', (header, base, expected) => {
    expect(nextLink(header, base)).toBe(expected);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-11-29T10:00:00Z');
  it.each([
    ['7', 7000],
    ['0', 0],
    ['Sun, 29 Nov 2026 10:00:30 GMT', 30_000],
    ['Sun, 29 Nov 2026 09:00:00 GMT', 0],
    ['soon', undefined],
    [null, undefined],
  ])('%s', (header, expected) => {
    expect(retryAfterMs(header, now)).toBe(expected);
  });
});
