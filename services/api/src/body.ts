import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { BadRequest } from './input.ts';

/** The offset of the first byte at which `bytes` stop being UTF-8, or undefined when they are UTF-8. */
export function invalidUtf8Offset(bytes: Uint8Array): number | undefined {
  if (isUtf8(bytes)) return undefined;
  // A streaming decoder keeps an unfinished sequence for later instead of refusing it, so the
  // shortest prefix it refuses ends at the first byte that no valid UTF-8 can continue with.
  const refuses = (length: number) => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, length), { stream: true });
      return false;
    } catch {
      return true;
    }
  };
  if (!refuses(bytes.length)) {
    // Only the last sequence is cut short: it starts at its lead byte.
    let start = bytes.length - 1;
    while (start > 0 && (bytes[start]! & 0xc0) === 0x80) start--;
    return start;
  }
  let accepted = 0;
  let refused = bytes.length;
  while (refused - accepted > 1) {
    const middle = (accepted + refused) >>> 1;
    if (refuses(middle)) refused = middle;
    else accepted = middle;
  }
  return refused - 1;
}

/** A 400 naming where a body stops being UTF-8, or undefined when it is UTF-8 (it is never read with replacement characters). */
export function notUtf8(body: Buffer): BadRequest | undefined {
  const offset = invalidUtf8Offset(body);
  return offset === undefined ? undefined : new BadRequest(`body is not valid UTF-8 (byte offset ${offset})`);
}

/**
 * JSON bodies: refused when they are not UTF-8 (two ids that differ only in invalid bytes would
 * otherwise decode to one); an empty body is no body, as several HTTP clients send a DELETE with
 * `Content-Type: application/json`, and a route that needs a body says so when it validates it.
 */
export function parseJsonBodies(app: Pick<FastifyInstance, 'getDefaultJsonParser' | 'removeContentTypeParser' | 'addContentTypeParser'>): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    const refused = notUtf8(bytes);
    if (refused) return done(refused, undefined);
    if (bytes.length === 0) return done(null, undefined);
    parseJson(request, bytes.toString('utf8'), done);
  });
}
