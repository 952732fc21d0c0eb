import { asArray, asRecord } from '../client/objects.ts';
import type { LocalImageSpec } from './localImageRegistry.ts';

/** The argv a container runs: its `command` replaces the image's, its `args` are appended (or replace the image's args). */
export function containerArgv(image: LocalImageSpec, container: Record<string, unknown>): string[] {
  const command = asArray(container['command']).map(String);
  const args = asArray(container['args']).map(String);
  if (command.length) return [...command, ...args];
  if (image.argv?.length) return [...image.argv, ...args];
  // "$@" passes the container's args to the image's shell command.
  return ['/bin/sh', '-c', args.length ? `${image.command ?? ''} "$@"` : (image.command ?? ''), 'sh', ...args];
}

export function firstPort(container: Record<string, unknown>): number | undefined {
  for (const p of asArray(container['ports'])) {
    const n = asRecord(p)['containerPort'];
    if (typeof n === 'number') return n;
  }
  return undefined;
}


/** Whether the pod or the container names a runAsUser. */
export function explicitUser(podSpec: Record<string, unknown>, container: Record<string, unknown>): boolean {
  return typeof asRecord(container['securityContext'])['runAsUser'] === 'number' || typeof asRecord(podSpec['securityContext'])['runAsUser'] === 'number';
}
