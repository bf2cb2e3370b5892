import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Storage } from './client.ts';

const migrationsDir = resolve(dirname(fileURLToPath(import.meta.url)), '../migrations');

export interface Migration {
  version: number;
  name: string;
  statements: string[];
  checksum: string;
}

/**
 * Migrations are numbered files `NNN_name.sql`, statements separated by `;` at a line end.
 * Two placeholders make a cluster a configuration change: `{on_cluster}` becomes
 * `ON CLUSTER <name>` and `{replicated}` prefixes MergeTree engines with `Replicated` when
 * CLICKHOUSE_CLUSTER is set; both vanish on a single server or embedded.
 */
export function loadMigrations(cluster: string | undefined): Migration[] {
  return readdirSync(migrationsDir)
    .filter((file) => /^\d{3}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => {
      const text = readFileSync(join(migrationsDir, file), 'utf8');
      const rendered = text.replaceAll('{on_cluster}', cluster ? `ON CLUSTER ${cluster}` : '').replaceAll('{replicated}', cluster ? 'Replicated' : '');
      return {
        version: Number(file.slice(0, 3)),
        name: file.slice(4, -4),
        checksum: createHash('sha256').update(text).digest('hex').slice(0, 16),
        statements: rendered
          .split(/;\s*$/m)
          .map((statement) => statement.replace(/^\s*--.*$/gm, '').trim())
          .filter(Boolean),
      };
    });
}

/**
 * Applies the migrations not yet recorded. Every statement is idempotent (IF NOT EXISTS), and
 * the record is a ReplacingMergeTree keyed by version, so two processes starting at once may
 * both apply a migration and both record it without harm. A recorded migration whose file
 * changed since is an error: released migrations are never edited.
 */
export async function migrate(storage: Storage): Promise<number[]> {
  const onCluster = storage.cluster ? `ON CLUSTER ${storage.cluster}` : '';
  await storage.command(`CREATE DATABASE IF NOT EXISTS {db:Identifier} ${onCluster}`);
  await storage.command(
    `CREATE TABLE IF NOT EXISTS {db:Identifier}.schema_migrations ${onCluster} (
       version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
     ) ENGINE = ${storage.cluster ? 'Replicated' : ''}ReplacingMergeTree(applied_at) ORDER BY version`,
  );
  const applied = new Map(
    (await storage.query<{ version: number; checksum: string }>('SELECT version, checksum FROM {db:Identifier}.schema_migrations FINAL')).map((row) => [
      row.version,
      row.checksum,
    ]),
  );
  const done: number[] = [];
  for (const migration of loadMigrations(storage.cluster)) {
    const recorded = applied.get(migration.version);
    if (recorded !== undefined) {
      if (recorded !== migration.checksum) {
        throw new Error(`migration ${migration.version}_${migration.name} changed after it was applied (checksum ${recorded} -> ${migration.checksum}); add a new migration instead`);
      }
      continue;
    }
    for (const statement of migration.statements) await storage.command(statement);
    await storage.insert('schema_migrations', [{ version: migration.version, name: migration.name, checksum: migration.checksum }]);
    done.push(migration.version);
  }
  return done;
}
