/**
 * The test tree's layout (docs/testing.md, "Layout and tiers"): every test file says its
 * tier in its name, and test/support/ holds helpers only.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const TEST_DIR = fileURLToPath(new URL('.', import.meta.url));
const TIERED = /\.(unit|int|e2e)\.test\.ts$/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return testFiles(path);
    return e.name.endsWith('.test.ts') ? [relative(TEST_DIR, path)] : [];
  });
}

describe('the test tree', () => {
  it('names the tier of every test file (.unit, .int or .e2e)', () => {
    expect(testFiles(TEST_DIR).filter((f) => !TIERED.test(f))).toEqual([]);
  });

  it('keeps tests out of test/support/, which holds shared helpers only', () => {
    expect(testFiles(join(TEST_DIR, 'support'))).toEqual([]);
  });
});
