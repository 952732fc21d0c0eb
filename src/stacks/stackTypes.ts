/**
 * The stacks domain's wire types: the API (src/api) re-exports them, the CLI and the dashboard read
 * them as the engine produces them.
 */
import type { PlannedMember } from './resolvedStack.ts';

/**
 * One member's rollout state. `Waiting`/`Blocked`: it has not started because a member it uses is not
 * Ready yet (`waitingOn` names them) or failed.
 */
export interface MemberState extends PlannedMember {
  readonly state: 'Pending' | 'Progressing' | 'Ready' | 'Failed' | 'Blocked';
  /** The members it uses that are not Ready yet. */
  readonly waitingOn: readonly string[];
  readonly message: string | null;
}

export interface StackStatus {
  readonly namespace: string;
  readonly name: string;
  readonly revision: number;
  readonly phase: 'Progressing' | 'Ready' | 'Failed';
  readonly message: string | null;
  /** In rollout order (level, then resources before apps, then name): the dependency graph with each member's state. */
  readonly members: readonly MemberState[];
}
