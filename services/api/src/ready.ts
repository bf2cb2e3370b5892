/**
 * Answers the API reads from ClickHouse (lists of alerts awaiting triage, incidents, experiments,
 * releases, rules and silences), kept ready: a read gets the last answer at once and, when it is
 * older than `maxAgeMs`, starts one refresh in the background. Only the first read of a key waits
 * for ClickHouse, and concurrent reads of a key share one query. So a list costs ClickHouse one
 * query per key and period however many dashboards ask, and an answer is at most `maxAgeMs` plus
 * one query behind. A write through this process `forget`s what it changed, so its author sees it
 * at once.
 */
export function readyAnswers(options: { maxAgeMs: number; maxKeys: number; onError(error: unknown, key: string): void }) {
  const answers = new Map<string, { at: number; value: unknown }>();
  const inFlight = new Map<string, Promise<unknown>>();
  /** When keys under a prefix were last forgotten: a query that started before must not bring back what it read. */
  const forgotten = new Map<string, number>();
  const staleBy = (key: string, at: number) => [...forgotten].some(([prefix, when]) => key.startsWith(prefix) && when >= at);
  const load = <T>(key: string, compute: () => Promise<T>): Promise<T> => {
    let pending = inFlight.get(key) as Promise<T> | undefined;
    if (!pending) {
      const at = Date.now();
      pending = compute()
        .then((value) => {
          if (staleBy(key, at)) return value;
          answers.delete(key);
          answers.set(key, { at, value });
          // The oldest key goes first (Map keeps insertion order).
          if (answers.size > options.maxKeys) answers.delete(answers.keys().next().value!);
          return value;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  };
  return {
    async get<T>(key: string, compute: () => Promise<T>): Promise<T> {
      const answer = answers.get(key);
      if (!answer) return load(key, compute);
      if (Date.now() - answer.at > options.maxAgeMs) load(key, compute).catch((error: unknown) => options.onError(error, key));
      return answer.value as T;
    },
    /** Drops the answers whose key starts with `prefix`: the next read asks ClickHouse. */
    forget(prefix: string): void {
      forgotten.set(prefix, Date.now());
      for (const key of answers.keys()) if (key.startsWith(prefix)) answers.delete(key);
      for (const key of inFlight.keys()) if (key.startsWith(prefix)) inFlight.delete(key);
    },
  };
}

export type ReadyAnswers = ReturnType<typeof readyAnswers>;
