import { BerthError } from '../../errors.ts';
import type { Sandbox, SandboxRuntimeChoice } from '../../sandbox/startSandbox.ts';

const CHOICES: readonly SandboxRuntimeChoice[] = ['auto', 'containers', 'processes'];

/** `--runtime auto|containers|processes` (default auto: containers when podman works here). */
export function runtimeFlag(value: string | undefined): SandboxRuntimeChoice {
  const v = value ?? 'auto';
  if (!(CHOICES as readonly string[]).includes(v)) throw new BerthError('BERTH_CLI_USAGE', `--runtime must be one of ${CHOICES.join(', ')}, got "${v}".`);
  return v as SandboxRuntimeChoice;
}

/**
 * `--runtime containers` promises containers: say so before anything starts when podman cannot run
 * them here (startSandbox checks again, for callers that are not the CLI).
 */
export async function requireRuntime(choice: SandboxRuntimeChoice): Promise<void> {
  if (choice !== 'containers') return;
  const { podmanUsable } = await import('../../sandbox/containerruntime/podmanCli.ts');
  const usable = podmanUsable();
  if (!usable.ok) throw new BerthError('BERTH_RUNTIME_UNAVAILABLE', `--runtime containers: podman cannot run containers here (${usable.reason}).`);
}

/** The one line that tells a user what runs their pods, and why when it is not containers. */
export function runtimeLine(sandbox: Pick<Sandbox, 'runtime' | 'runtimeFallbackReason'>): string {
  if (sandbox.runtime === 'containers') return 'containers (podman + runc: securityContext, limits and images enforced)';
  if (sandbox.runtime === 'simulated') return 'simulated (no image runs)';
  const why = sandbox.runtimeFallbackReason ? `podman is not usable: ${sandbox.runtimeFallbackReason}` : 'chosen with --runtime processes';
  return `processes (${why}; berth.local images run as local processes without container isolation)`;
}
