import type { SnapshotFrom } from 'xstate';
import type { AccountStateName } from './context.js';
import type { AccountMachine } from './machine.js';

export type AccountSnapshot = SnapshotFrom<AccountMachine>;

/** The contract's flat state name of a snapshot (`online.pinging` → `pinging`). */
export function stateName(snapshot: AccountSnapshot): AccountStateName {
  const value = snapshot.value;
  return (typeof value === 'string' ? value : (value as { online: string }).online) as AccountStateName;
}

/** The states in which a send goes straight out. */
export const CONNECTED_STATES: readonly AccountStateName[] = ['open', 'idle', 'pinging'];
