import type { ResolvedApp } from './resolvedApp.ts';

/**
 * One setting of an App that is weaker than berth's hardened defaults (Pod Security restricted),
 * named so that a grant, an audit row, the revision history and the app's status can all say
 * exactly what was weakened.
 */
export interface Weakening {
  /** The grantable name: the spec field, e.g. "dangerouslyAddCapabilities". */
  readonly setting: WeakeningSetting;
  /** JSON pointer of the field in the App document. */
  readonly path: string;
  /** Plain words, e.g. "adds capabilities SYS_ADMIN". */
  readonly description: string;
}

export const WEAKENING_SETTINGS = [
  'dangerouslyAllowPrivilegeEscalation',
  'dangerouslyWritableRootFilesystem',
  'dangerouslyRunAsRoot',
  'dangerouslyAddCapabilities',
  'unisolatedCommand',
] as const;
export type WeakeningSetting = (typeof WEAKENING_SETTINGS)[number];

/** Where the sandbox runs `berth.local/*` images and how it isolates them (see src/sandbox/processruntime). */
export type SandboxIsolation = 'uid' | 'none';

export interface WeakeningContext {
  /**
   * Set when the cluster is berth's embedded sandbox. With 'none' (berth not running as root), a
   * `berth.local/*` image's process runs as berth's own user, so overriding its command is running
   * an arbitrary host command with berth's rights: it counts as a weakening.
   */
  readonly sandboxIsolation?: SandboxIsolation;
}

/** Capabilities Pod Security restricted allows to be added. */
const RESTRICTED_ADDABLE = new Set(['NET_BIND_SERVICE']);

/** Every setting of `app` weaker than the hardened defaults, in a stable order. */
export function weakenedSettings(app: ResolvedApp, ctx: WeakeningContext = {}): Weakening[] {
  const out: Weakening[] = [];
  const sec = app.spec.security;
  if (sec.dangerouslyAllowPrivilegeEscalation) {
    out.push({ setting: 'dangerouslyAllowPrivilegeEscalation', path: '/spec/security/dangerouslyAllowPrivilegeEscalation', description: 'allows privilege escalation (setuid binaries)' });
  }
  if (sec.dangerouslyWritableRootFilesystem) {
    out.push({ setting: 'dangerouslyWritableRootFilesystem', path: '/spec/security/dangerouslyWritableRootFilesystem', description: 'makes the root filesystem writable' });
  }
  if (sec.dangerouslyRunAsRoot || sec.runAsUser === 0) {
    out.push({ setting: 'dangerouslyRunAsRoot', path: '/spec/security/dangerouslyRunAsRoot', description: 'runs as root (UID 0)' });
  }
  const caps = sec.dangerouslyAddCapabilities.filter((c) => !RESTRICTED_ADDABLE.has(c));
  if (caps.length > 0) {
    out.push({ setting: 'dangerouslyAddCapabilities', path: '/spec/security/dangerouslyAddCapabilities', description: `adds capabilities ${caps.join(', ')}` });
  }
  const overrides = (app.spec.command?.length ?? 0) > 0 || (app.spec.args?.length ?? 0) > 0;
  if (ctx.sandboxIsolation === 'none' && overrides && isSandboxImage(app.spec.image)) {
    out.push({
      setting: 'unisolatedCommand',
      path: app.spec.command?.length ? '/spec/command' : '/spec/args',
      description: `overrides the command of sandbox image ${app.spec.image}, which runs unisolated as berth's own user`,
    });
  }
  return out;
}

/** `berth.local/*` images run on the sandbox's host (src/sandbox/processruntime). */
export function isSandboxImage(image: string): boolean {
  return image.startsWith('berth.local/');
}

/** "weakened: runs as root (UID 0); adds capabilities SYS_ADMIN" for audit rows and history. */
export function describeWeakenings(list: readonly Weakening[]): string {
  return list.length === 0 ? '' : `weakened: ${list.map((w) => w.description).join('; ')}`;
}
