import { setFlagsFromString } from 'v8';

/**
 * For a process that is there to run one bulk import on the embedded store (`crm import`, its bench): young-generation
 * collections on the main thread alone. With the main thread and the store's append thread busy on 2 cores, V8's
 * helper threads' share of each parallel scavenge competed with them for the cores instead of shortening the pause
 * (1M-line import, 6 alternating pairs: wall median -0.5 s; the helpers' CPU -0.4 to -0.7 s, the main thread's
 * collections +50-100 ms). Process-wide and set at run time, so only here: a projection rebuild, whose collections
 * keep more alive, took 8-15% longer with it.
 */
export function preferSerialScavenges(): void {
  setFlagsFromString('--no-parallel-scavenge');
}
