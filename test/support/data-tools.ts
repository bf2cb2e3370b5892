import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The venv `./run test` installs the OpenLineage client, Great Expectations, Evidently and the project's GX action into. */
export const DATA_TOOLS_VENV = process.env.KPI_TEST_DATA_TOOLS_VENV ?? join(homedir(), '.cache', 'kpi-test', 'data-tools-venv');

/** Runs one of the Python scripts of test/support with the venv's interpreter, in a scratch directory; its stdout. */
export function runDataTool(script: string, args: string[]): Promise<string> {
  const python = join(DATA_TOOLS_VENV, 'bin', 'python');
  if (!existsSync(python)) throw new Error(`${python} is missing: ./run test installs the data tools into ${DATA_TOOLS_VENV}`);
  const path = fileURLToPath(new URL(script, import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(python, [path, ...args], { cwd: mkdtempSync(join(tmpdir(), 'kpi-data-tools-')), timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${script} failed: ${error.message}\n${stderr.slice(-4000)}`)) : resolve(stdout),
    );
  });
}
