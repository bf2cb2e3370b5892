import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { answerSerializer, AnswerOutsideContract } from '../src/serialize.ts';

const schema = z.object({ id: z.string(), value: z.number().nullable(), tags: z.array(z.object({ name: z.string() })) });
const route = { schema, method: 'GET', url: '/v1/things/:id', httpStatus: '200' };
const answer = { id: 'a', value: null, tags: [{ name: 'x' }] };

describe('answers written as the contract declares them', () => {
  it('serves an answer as it is, checked or not', () => {
    for (const check of [false, true]) expect(JSON.parse(answerSerializer(check)(route as never)(answer))).toEqual(answer);
  });

  it('checked, refuses an answer its schema would change: a field it does not declare, a wrong type, a missing field', () => {
    const serialize = answerSerializer(true)(route as never);
    expect(() => serialize({ ...answer, internal: 'leak' })).toThrow(AnswerOutsideContract);
    expect(() => serialize({ ...answer, tags: [{ name: 'x', secret: 1 }] })).toThrow(/GET \/v1\/things\/:id/);
    expect(() => serialize({ ...answer, value: '1' })).toThrow();
    expect(() => serialize({ id: 'a', tags: [] })).toThrow();
  });

  it('unchecked, writes what the handler built without looking at it', () => {
    expect(answerSerializer(false)(route as never)({ ...answer, internal: 'kept' })).toContain('"internal":"kept"');
  });

  it('unchecked, writes a kept (frozen) answer once and sends that text again; an answer built anew is written anew', () => {
    const serialize = answerSerializer(false)(route as never);
    const kept = Object.freeze({ ...answer, tags: [{ name: 'x' }] });
    expect(serialize(kept)).toBe(JSON.stringify(kept));
    // Its route keeps it unchanged; were it changed, the first writing would still be sent.
    kept.tags[0]!.name = 'changed';
    expect(serialize(kept)).toContain('"name":"x"');
    const built = { ...answer, tags: [{ name: 'x' }] };
    expect(serialize(built)).toContain('"name":"x"');
    built.tags[0]!.name = 'changed';
    expect(serialize(built)).toContain('"name":"changed"');
  });
});
