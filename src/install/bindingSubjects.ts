import type { Subject } from './renderInstall.ts';

export function sameSubject(a: Subject, b: Subject): boolean {
  return a.kind === b.kind && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? '');
}

export function describeSubjects(subjects: readonly Subject[]): string {
  if (subjects.length === 0) return 'no subject';
  return subjects.map((s) => `${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name}`).join(', ');
}

/** Whether a binding grants to exactly `subject` and to nobody else. */
export function bindsOnly(subjects: readonly Subject[], subject: Subject): boolean {
  return subjects.length > 0 && subjects.every((s) => sameSubject(s, subject));
}

/**
 * Why applying the install's RoleBinding over a live one of the same name would take rights from
 * someone (its subjects list is replaced whole): another berth install that manages the namespace, or
 * a hand-made grant. Undefined when the binding is absent or already this install's.
 */
export function managerBindingConflict(namespace: string, name: string, live: readonly Subject[] | undefined, subject: Subject): string | undefined {
  if (live === undefined || bindsOnly(live, subject)) return undefined;
  return `RoleBinding ${namespace}/${name} grants to ${describeSubjects(live)}, not to ${describeSubjects([subject])}: another berth installation (or someone else) holds berth's rights in ${namespace}, and applying would take them away`;
}
