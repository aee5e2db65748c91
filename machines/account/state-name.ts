import type { SnapshotFrom, StateValueFrom } from 'xstate';
import type { AccountMachine } from './machine.js';
import type { AccountStateName, OnlineStateName } from './states.js';

export type AccountSnapshot = SnapshotFrom<AccountMachine>;

/** The contract's flat state name of a snapshot (`online.pinging` → `pinging`). */
export function stateName(snapshot: AccountSnapshot): AccountStateName {
  const value = snapshot.value;
  return (typeof value === 'string' ? value : (value as { online: string }).online) as AccountStateName;
}

// Compile-time checks that states.ts names exactly the machine's states: its leaves (the
// state value without the compound `online`), and `online`'s children.
type StateValue = StateValueFrom<AccountMachine>;
type Nested = Extract<StateValue, object>;
type Leaves<V> = V extends string ? V : { [K in keyof V]-?: Leaves<NonNullable<V[K]>> }[keyof V];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const leavesNamed: Same<Exclude<Leaves<StateValue>, keyof Nested>, AccountStateName> = true;
const onlineNamed: Same<NonNullable<Nested['online']>, OnlineStateName> = true;
void leavesNamed;
void onlineNamed;
