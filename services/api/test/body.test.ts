import { describe, expect, it } from 'vitest';
import { invalidUtf8Offset, notUtf8 } from '../src/body.ts';

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));

describe('invalidUtf8Offset', () => {
  it('finds nothing in UTF-8, multi-byte characters included', () => {
    expect(invalidUtf8Offset(bytes('{"team":"søk","note":"日本 🚀"}'))).toBeUndefined();
    expect(invalidUtf8Offset(bytes(''))).toBeUndefined();
  });

  it('names the first byte that no UTF-8 text continues with', () => {
    expect(invalidUtf8Offset(bytes('abc', [0xff], 'def'))).toBe(3);
    // A lead byte followed by what cannot continue it: the byte that breaks the sequence.
    expect(invalidUtf8Offset(bytes('ab', [0xe2, 0x41], 'c'))).toBe(3);
    // Overlong encodings and surrogates are not UTF-8 either.
    expect(invalidUtf8Offset(bytes('x', [0xc0, 0x80]))).toBe(1);
    expect(invalidUtf8Offset(bytes('xy', [0xed, 0xa0, 0x80]))).toBe(3);
    // Only the first of several is named.
    expect(invalidUtf8Offset(bytes('é', [0xfe], 'é', [0xff]))).toBe(2);
  });

  it('names the lead byte of a sequence cut short at the end', () => {
    expect(invalidUtf8Offset(bytes('abc', [0xe2, 0x82]))).toBe(3);
    expect(invalidUtf8Offset(bytes('a', [0xf0]))).toBe(1);
  });

  it('agrees with a fatal TextDecoder on random bytes, and the text before the offset is UTF-8', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % 256;
    // Mostly ASCII with some high bytes, so that valid multi-byte sequences occur as well.
    const byte = () => (random() < 64 ? random() | 0x80 : random() & 0x7f);
    for (let round = 0; round < 2_000; round++) {
      const sample = Buffer.from(Array.from({ length: 1 + (round % 12) }, byte));
      const offset = invalidUtf8Offset(sample);
      let valid = true;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(sample);
      } catch {
        valid = false;
      }
      expect(offset === undefined, sample.toString('hex')).toBe(valid);
      if (offset !== undefined) expect(() => new TextDecoder('utf-8', { fatal: true }).decode(sample.subarray(0, offset), { stream: true })).not.toThrow();
    }
  });
});

describe('notUtf8', () => {
  it('is a 400 naming the offset, or nothing for UTF-8', () => {
    expect(notUtf8(bytes('ok'))).toBeUndefined();
    expect(notUtf8(bytes('ab', [0x80]))).toMatchObject({ statusCode: 400, code: 'bad_request', message: 'body is not valid UTF-8 (byte offset 2)' });
  });
});
