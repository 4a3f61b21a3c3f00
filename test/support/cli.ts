import { existsSync } from 'fs';
import { resolve } from 'path';

/** The built `crm` entry point. `npm test` builds before running jest; a lone jest run needs `npm run build` first. */
export const CLI = resolve(__dirname, '../../dist/apps/cli/src/main.js');

export function requireBuiltCli(): string {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does it)`);
  return CLI;
}
