/**
 * The long-lived streams (SSE, followed logs) open per credential, so that revoking a token or the
 * credential expiring ends them: a stream is authorized once, when it opens, and would otherwise keep
 * delivering events to a caller who lost the right to them.
 */
import type { Clock } from '../kube/clock.ts';
import type { Principal } from './policy.ts';

export type StreamEndReason = 'revoked' | 'expired';

export interface OpenStreams {
  /**
   * Registers a stream opened by `principal`; `end` runs once when its token is revoked or its
   * credential expires (at once if that already happened). Returns the function that unregisters it.
   */
  add(principal: Principal, end: (reason: StreamEndReason) => void): () => void;
  /** Ends every stream opened with token `id`, and any opened with it later. */
  revoke(id: string): void;
  /** Streams registered now. */
  size(): number;
}

export function createOpenStreams(clock: Clock): OpenStreams {
  const byToken = new Map<string, Set<(reason: StreamEndReason) => void>>();
  // A revoke can land between a request's verification and its stream's registration.
  const revoked = new Set<string>();
  let size = 0;

  return {
    add(principal, end) {
      let done = false;
      let cancelExpiry = (): void => undefined;
      const id = principal.kind === 'token' ? principal.id : undefined;
      const unregister = (): void => {
        if (done) return;
        done = true;
        size--;
        cancelExpiry();
        if (id === undefined) return;
        const set = byToken.get(id);
        set?.delete(finish);
        if (set?.size === 0) byToken.delete(id);
      };
      const finish = (reason: StreamEndReason): void => {
        if (done) return;
        unregister();
        end(reason);
      };
      size++;
      if (id !== undefined) {
        if (revoked.has(id)) {
          finish('revoked');
          return unregister;
        }
        byToken.set(id, (byToken.get(id) ?? new Set()).add(finish));
      }
      const expiresAtMs = principal.expiresAtMs;
      if (expiresAtMs !== undefined) {
        // Timers are clamped to ~24.8 days: one that fires early is set again for the rest.
        const arm = (): void => {
          cancelExpiry = clock.setTimeout(() => (clock.now() >= expiresAtMs ? finish('expired') : arm()), expiresAtMs - clock.now());
        };
        arm();
      }
      return unregister;
    },
    revoke(id) {
      revoked.add(id);
      for (const finish of [...(byToken.get(id) ?? [])]) finish('revoked');
    },
    size: () => size,
  };
}
