// Prints every stored KPI value of the database in DATA_DIR as JSON (computed_at left out), in a
// fixed order: tests compare what two processes stored without opening their embedded ClickHouse.
import { loadConfig } from '@kpi/config';
import { createStorage } from '@kpi/storage';

const config = loadConfig();
const storage = createStorage({ clickhouse: config.clickhouse, dataDir: config.dataDir });
const rows = await storage.query(
  `SELECT kpi, granularity, toString(period_start) AS period_start, team, tier, value, numerator, denominator, sample_size, details
   FROM {db:Identifier}.kpi_values FINAL ORDER BY kpi, granularity, team, tier, period_start`,
);
await storage.close();
process.stdout.write(JSON.stringify(rows));
