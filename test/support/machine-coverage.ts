import type { AnyStateNode, AnyTransitionDefinition } from 'xstate';
import { accountMachine, ACCOUNT_STATE_NAMES } from '../../machines/index.js';

/** `source|event|n`: the n-th candidate (guard branch) of a state node's handler. */
export function transitionKey(t: AnyTransitionDefinition): string {
  const candidates = t.source.transitions.get(t.eventType) ?? [];
  return `${t.source.id}|${t.eventType}|${candidates.indexOf(t)}`;
}

/** Every transition the machine defines, guard branches counted one by one. */
export function allTransitionKeys(): string[] {
  const keys: string[] = [];
  const walk = (node: AnyStateNode) => {
    for (const candidates of node.transitions.values()) for (const t of candidates) keys.push(transitionKey(t));
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(accountMachine.root);
  return keys.sort();
}

/** Collects what generated runs reached, and reports it against the definition. */
export class CoverageReport {
  readonly states = new Set<string>();
  readonly transitions = new Set<string>();

  add(taken: readonly AnyTransitionDefinition[], stateNames: Iterable<string>): void {
    for (const t of taken) this.transitions.add(transitionKey(t));
    for (const s of stateNames) this.states.add(s);
  }

  summary() {
    const allTransitions = allTransitionKeys();
    const missingTransitions = allTransitions.filter((k) => !this.transitions.has(k));
    const missingStates = ACCOUNT_STATE_NAMES.filter((s) => !this.states.has(s));
    return {
      states: {
        total: ACCOUNT_STATE_NAMES.length,
        reached: ACCOUNT_STATE_NAMES.length - missingStates.length,
        missing: missingStates,
      },
      transitions: {
        total: allTransitions.length,
        reached: allTransitions.length - missingTransitions.length,
        missing: missingTransitions,
      },
    };
  }
}
