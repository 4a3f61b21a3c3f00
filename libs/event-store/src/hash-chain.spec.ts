import * as crypto from 'crypto';
import { describe, expect, it } from '@jest/globals';
import { chainHash } from './hash-chain';

describe('chainHash', () => {
  // The definition auditors recompute: SHA-256 (hex) of the UTF-8 of the fields joined by newlines.
  const reference = (...fields: (string | number)[]) => crypto.createHash('sha256').update(fields.join('\n'), 'utf8').digest('hex');

  it.each([
    ['ASCII', '{"waybillNo":"SF1","freightFen":100}'],
    ['Chinese', '{"originCity":"深圳","destinationCity":"上海"}'],
    ['characters outside the BMP', '{"note":"📦 ok"}'],
    ['a lone surrogate (written as U+FFFD, as the joined string would be)', '{"note":"\ud800"}'],
    ['a long text', JSON.stringify({ note: '运'.repeat(5000) })],
  ])('is SHA-256 of the UTF-8 of the joined fields: %s', (_, data) => {
    const metadata = '{"occurredAt":"2026-03-01T08:00:00+08:00","source":"热线"}';
    expect(chainHash(crypto, 'ab'.repeat(32), 'customer-C1', 7, 'e-1', 'ShipmentPickedUp', data, metadata)).toBe(
      reference('ab'.repeat(32), 'customer-C1', 7, 'e-1', 'ShipmentPickedUp', data, metadata),
    );
  });

  it('gives the value recorded in stores written so far (a changed definition would break every chain)', () => {
    expect(chainHash(crypto, '', 'customer-C1', 0, 'e-1', 'ShipmentPickedUp', '{"originCity":"深圳"}', '{"occurredAt":"2026-03-01T08:00:00+08:00"}')).toBe(
      '0aaa9eac0a34c81050bbf66f376d8dcbaa2713354ffaf099de47059b6c8ef8f6',
    );
  });
});
