import { isDeepStrictEqual } from 'node:util';
import { serializerCompiler } from 'fastify-type-provider-zod';

type SerializerCompiler = typeof serializerCompiler;

/** An answer that its route's contract schema would have to change to send. */
export class AnswerOutsideContract extends Error {
  override name = 'AnswerOutsideContract';
}

/**
 * Answers a route keeps and sends again (frozen by the route, so never changed after their first
 * writing), as written the first time: a list of hundreds of kilobytes asked for many times a
 * second is written once.
 */
const written = new WeakMap<object, string>();
const isKeptAnswer = (data: unknown): data is object => typeof data === 'object' && data !== null && Object.isFrozen(data);
function writtenOnce(answer: object): string {
  let text = written.get(answer);
  if (text === undefined) written.set(answer, (text = JSON.stringify(answer)));
  return text;
}

/**
 * How answers are written. Handlers build them to the contract's types, so serving writes them as
 * they are (JSON.stringify): checking every answer against its zod schema cost reads more CPU than
 * computing them. With `check` (the test suite's stacks, API_CHECK_RESPONSES) every answer is also
 * encoded by its schema, and one the schema would change — a field it does not declare, a missing
 * default, a value of another type — is a 500 naming the route, so what tests see is what a
 * server without the check sends.
 */
export function answerSerializer(check: boolean): SerializerCompiler {
  return (route) => {
    // Compiled in both modes: a route whose schema cannot serialize fails at start-up either way.
    const checked = serializerCompiler(route);
    if (!check) return (data: unknown) => (isKeptAnswer(data) ? writtenOnce(data) : JSON.stringify(data));
    return (data: unknown) => {
      const encoded = checked(data);
      const sent = JSON.stringify(data);
      if (!isDeepStrictEqual(JSON.parse(encoded), JSON.parse(sent))) {
        throw new AnswerOutsideContract(`${route.method} ${route.url}: the answer differs from what its contract schema encodes: ${sent.slice(0, 300)} vs ${encoded.slice(0, 300)}`);
      }
      // The same answer; its fields in the schema's order, as clients of a checked server always had them.
      return encoded;
    };
  };
}
