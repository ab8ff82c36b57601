import { describe, expect, it } from 'vitest';
import { compareText } from '../../src/text-order.js';

describe('compareText', () => {
  it('orders by code unit, whatever the host locale: upper case before lower, hyphen before digits, digits before letters', () => {
    expect(['web', 'Web', 'api-2', 'api', 'api10', 'api9', '2026-11-30T01:00:00Z', '2026-11-29T23:59:59Z'].sort(compareText)).toEqual([
      '2026-11-29T23:59:59Z',
      '2026-11-30T01:00:00Z',
      'Web',
      'api',
      'api-2',
      'api10',
      'api9',
      'web',
    ]);
    expect(compareText('a', 'a')).toBe(0);
  });
});
