import { existsSync, readFileSync } from 'fs';
import { dirname, join } from 'path';

/**
 * The node flags `npm run crm` runs the CLI with (package.json's `crm` script), so that the benches time the
 * import as users run it. Read from the package.json above this file (src or dist).
 */
export function cliNodeFlags(): string[] {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { scripts?: Record<string, string> };
      if (pkg.scripts?.crm !== undefined) return pkg.scripts.crm.split(/\s+/).filter((a) => a.startsWith('--'));
    }
    if (dirname(dir) === dir) throw new Error('bench: no package.json with a crm script above ' + __dirname);
  }
}
