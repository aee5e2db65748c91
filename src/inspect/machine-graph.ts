/**
 * The account machine as a graph: its states (nested as in the definition) and every
 * transition that changes state, read from the machine definition itself. Shared by
 * docs/machine.md (`scripts/machine-diagram.ts`) and the inspector page, so the
 * diagram a user watches is the one the docs show.
 */
import type { AnyStateNode, AnyTransitionDefinition } from 'xstate';
import { accountMachine } from '../../machines/index.js';

// Guards that only filter stale facts (old socket, old timer, old probe) say nothing a
// reader of the diagram needs.
export const BOOKKEEPING_GUARDS = new Set(['fromCurrentSocket', 'timerArmed', 'currentProbe']);

type GuardLike = string | { type: string; params?: Record<string, unknown> } | { name?: string; guards?: GuardLike[] };

export function guardLabel(guard: unknown): string[] {
  if (!guard) return [];
  const g = guard as GuardLike;
  if (typeof g === 'string') return BOOKKEEPING_GUARDS.has(g) ? [] : [g];
  if ('guards' in g && Array.isArray(g.guards)) return g.guards.flatMap(guardLabel);
  if ('type' in g) {
    if (BOOKKEEPING_GUARDS.has(g.type)) return [];
    const params = Object.values(g.params ?? {}).join(',');
    return [params ? `${g.type}(${params})` : g.type];
  }
  return [];
}

/** `Event [guard ∧ guard]`, bookkeeping guards left off. */
export function transitionLabel(t: AnyTransitionDefinition): string {
  const guards = guardLabel(t.guard);
  return guards.length ? `${t.eventType} [${guards.join(' ∧ ')}]` : t.eventType;
}

export function actionNames(t: AnyTransitionDefinition): string {
  return t.actions.map((a) => (typeof a === 'string' ? a : ((a as { type?: string }).type ?? 'inline'))).join(', ');
}

/** The ancestor of `node` directly under the root (itself for top-level states). */
export function topLevel(node: AnyStateNode): AnyStateNode {
  let n = node;
  while (n.parent && n.parent.parent) n = n.parent;
  return n;
}

export interface GraphState {
  /** Path from the root, dot-separated (`online.open`). */
  id: string;
  /** Own key (`open`): the contract's state name for leaves. */
  key: string;
  parent: string | null;
  /** Child ids in definition order. */
  children: string[];
  initial: string | null;
}

export interface GraphTransition {
  from: string;
  to: string;
  event: string;
  /** Event with its guards (`SocketClosed [closeIs(stop)]`). */
  label: string;
}

export interface MachineGraph {
  /** Top-level state ids in definition order. */
  top: string[];
  initial: string | null;
  states: Map<string, GraphState>;
  transitions: GraphTransition[];
}

const pathOf = (node: AnyStateNode): string => node.path.join('.');

/** Every state and every state-changing transition of `root`'s machine (default: the account machine). */
export function machineGraph(root: AnyStateNode = accountMachine.root): MachineGraph {
  const states = new Map<string, GraphState>();
  const transitions: GraphTransition[] = [];
  const visit = (node: AnyStateNode) => {
    const children = Object.values(node.states);
    for (const child of children) {
      states.set(pathOf(child), {
        id: pathOf(child),
        key: child.key,
        parent: node.parent ? pathOf(node) : null,
        children: Object.values(child.states).map(pathOf),
        initial: child.initial?.target[0] ? pathOf(child.initial.target[0]) : null,
      });
      for (const candidates of child.transitions.values()) {
        for (const t of candidates) {
          for (const target of t.target ?? [])
            transitions.push({
              from: pathOf(child),
              to: pathOf(target),
              event: t.eventType,
              label: transitionLabel(t),
            });
        }
      }
      visit(child);
    }
  };
  visit(root);
  return {
    top: Object.values(root.states).map(pathOf),
    initial: root.initial?.target[0] ? pathOf(root.initial.target[0]) : null,
    states,
    transitions,
  };
}
