import { SingleBar, Presets } from 'cli-progress';

/** With --json, stdout carries only the JSON document; everything else goes to stderr. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) + '\n');
}

export function info(message: string): void {
  process.stderr.write(message + '\n');
}

/** A progress bar on stderr, only when stderr is a terminal (so logs and CI stay clean). */
export function progress(total: number, unit: string): { update(n: number): void; stop(): void } {
  if (!process.stderr.isTTY || total <= 0) return { update() {}, stop() {} };
  const bar = new SingleBar({ stream: process.stderr, format: `{bar} {percentage}% | {value}/{total} ${unit} | {eta_formatted} left`, hideCursor: true }, Presets.shades_classic);
  bar.start(total, 0);
  return { update: (n) => bar.update(Math.min(n, total)), stop: () => bar.stop() };
}
