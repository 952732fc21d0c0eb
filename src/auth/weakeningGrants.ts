import { BerthError, problem } from '../errors.ts';
import type { Weakening, WeakeningSetting } from '../appspec/weakenings.ts';
import type { Principal } from './policy.ts';

/**
 * Which weakened settings non-admins may deploy, per namespace ("*" for every setting). An admin
 * may always deploy them: weakening the restricted profile is an admin's decision, or one an
 * admin wrote into the server's config for a namespace.
 */
export type WeakeningGrants = Readonly<Record<string, readonly (WeakeningSetting | '*')[]>>;

/** The weakenings `principal` may not deploy into `namespace`. */
export function ungrantedWeakenings(principal: Principal, namespace: string, list: readonly Weakening[], grants: WeakeningGrants = {}): Weakening[] {
  if (principal.role === 'admin') return [];
  const granted = new Set<string>(grants[namespace] ?? []);
  if (granted.has('*')) return [];
  return list.filter((w) => !granted.has(w.setting));
}

/** Throws BERTH_WEAKENING_NOT_GRANTED (403) naming every ungranted setting; nothing is stored or applied. */
export function assertWeakeningsGranted(principal: Principal, namespace: string, list: readonly Weakening[], grants: WeakeningGrants = {}): void {
  const denied = ungrantedWeakenings(principal, namespace, list, grants);
  if (denied.length === 0) return;
  throw new BerthError(
    'BERTH_WEAKENING_NOT_GRANTED',
    `${principal.name} may not deploy settings weaker than Pod Security restricted into "${namespace}": ${denied.map((w) => w.description).join('; ')}.`,
    {
      problems: denied.map((w) =>
        problem('BERTH_WEAKENING_NOT_GRANTED', w.path, `${w.setting}: ${w.description}`, {
          hint: `Remove it, or ask an admin to deploy it or to grant "${w.setting}" for namespace "${namespace}" (server config weakeningGrants).`,
        }),
      ),
    },
  );
}
