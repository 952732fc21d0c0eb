/**
 * Test support: the one kubectl the suites drive as a client. Its path is fixed so a test never picks
 * up another kubectl from PATH (a different minor, a wrapper script).
 */
import { haveExecutable } from './requiredUnderCi.ts';

export const KUBECTL = '/usr/bin/kubectl';

/**
 * Whether `suite` can drive kubectl. Missing kubectl fails under CI and skips with the reason
 * elsewhere; use as `describe.skipIf(!haveKubectl('…'))`.
 */
export function haveKubectl(suite: string, path: string = KUBECTL): boolean {
  return haveExecutable(suite, path, 'install kubectl, e.g. apt-get install kubectl');
}
