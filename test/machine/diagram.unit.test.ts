import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACCOUNT_STATE_NAMES } from '../../machines/index.js';
import { MACHINE_DOC, renderMachineDoc } from '../../scripts/machine-diagram.js';

describe('docs/machine.md', () => {
  it('is what `npm run docs:machine` generates from the machine today', () => {
    // Stale? Run `npm run docs:machine` and commit the result.
    expect(readFileSync(MACHINE_DOC, 'utf8')).toBe(renderMachineDoc());
  });

  it('draws every state', () => {
    const doc = renderMachineDoc();
    for (const state of ACCOUNT_STATE_NAMES) expect(doc).toMatch(new RegExp(`\\b${state}\\b`));
  });
});
