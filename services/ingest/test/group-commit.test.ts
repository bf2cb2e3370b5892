import { describe, expect, it } from 'vitest';
import { groupCommit, mergeRows } from '../src/ingest.ts';

/** A promise resolved from outside. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('group commit of the chunks handled at the same time', () => {
  it('stores a chunk alone at once, and the chunks arriving meanwhile together after it', async () => {
    const groups: string[][] = [];
    const first = gate();
    const commit = groupCommit<string>(async (members) => {
      groups.push(members);
      if (groups.length === 1) await first.opened;
    });
    const a = commit('a');
    await Promise.resolve();
    await Promise.resolve();
    const [b, c] = [commit('b'), commit('c')];
    expect(groups).toEqual([['a']]);
    first.open();
    await Promise.all([a, b, c]);
    expect(groups).toEqual([['a'], ['b', 'c']]);
  });

  it('fails every chunk of a failed group, and stores the next group all the same', async () => {
    const first = gate();
    let calls = 0;
    const commit = groupCommit<string>(async () => {
      calls++;
      if (calls === 1) {
        await first.opened;
        throw new Error('ClickHouse is away');
      }
    });
    const a = commit('a');
    await Promise.resolve();
    await Promise.resolve();
    const b = commit('b');
    first.open();
    await expect(a).rejects.toThrow('ClickHouse is away');
    await expect(b).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });

  it('merges the rows of chunks: their event lines, and the lines of each typed table', () => {
    const merged = mergeRows([
      { lines: 'a\n', kpiLines: new Map([['serving_windows', 's1\n']]) },
      { lines: 'b\n', kpiLines: new Map([['serving_windows', 's2\n'], ['incident_events', 'i3\n']]) },
    ]);
    expect(merged.lines).toBe('a\nb\n');
    expect(Object.fromEntries(merged.kpiLines)).toEqual({ serving_windows: 's1\ns2\n', incident_events: 'i3\n' });
  });
});
