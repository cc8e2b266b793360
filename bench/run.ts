/**
 * `npm run bench [name...]`: runs each bench/<name>.bench.ts in its own process, one after the
 * other (they would disturb each other's numbers if run together), and stops them all on Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort();
const wanted = process.argv.slice(2);
const chosen = wanted.length ? all.filter((f) => wanted.some((w) => f.startsWith(w))) : all;
if (wanted.length && chosen.length === 0) {
  console.error(`bench: no benchmark matches ${wanted.join(', ')}; there are: ${all.map((f) => f.replace('.bench.ts', '')).join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const file of chosen) {
  console.log(`\n=== ${file.replace('.bench.ts', '')} ===`);
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', path.join(here, file)], { stdio: 'inherit' });
    const forward = () => child.kill('SIGINT');
    process.once('SIGINT', forward);
    child.once('exit', (c) => {
      process.off('SIGINT', forward);
      resolve(c ?? 1);
    });
  });
  if (code !== 0) failed++;
}
process.exit(failed ? 1 : 0);
