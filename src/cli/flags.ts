/**
 * Flag declarations shared by the command declarations in commands/. Start-up loads this module for
 * every invocation, so it imports commander only: choices whose types live in heavier modules are
 * written out with `choices()`, which the compiler checks against the type.
 */
import { Option, type Command } from 'commander';

export type OutputFormat = 'text' | 'json' | 'yaml';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['text', 'json', 'yaml'];

export interface RemoteFlags {
  readonly server?: string;
}

export function withServer(cmd: Command): Command {
  return cmd.option('--server <url>', 'berth server URL (default $BERTH_URL or http://127.0.0.1:7070)');
}

export function withNamespace(cmd: Command): Command {
  return cmd.option('-n, --namespace <ns>', 'namespace of the app (or stack)', 'default');
}

export function withOutput(cmd: Command): Command {
  return cmd.addOption(new Option('-o, --output <format>', 'output format').choices([...OUTPUT_FORMATS]).default('text'));
}

/** Repeatable flags (`-f a -f b`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Every member of the string union T, in the order written. A `Record<T, true>` must name each
 * member exactly once, so a member added to T without being added here fails to compile.
 */
export function choices<T extends string>(all: Record<T, true>): T[] {
  return Object.keys(all) as T[];
}

/** Ports `berth up` prefers (a free one when taken); named in its flags' help. */
export const UP_SERVER_PORT = 7070;
export const UP_SANDBOX_PORT = 6443;
