#!/usr/bin/env node
// The `wa-connd` command, run in this process (so signals and exit codes are the CLI's own).
// In a checkout (src/ beside bin/) it runs the TypeScript source through tsx's loader: an
// edit needs no build, and a stale dist/ is never what runs. An installed package and the
// production image ship no src/ and run the compiled dist/ (`npm run build`).
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/src/cli/main.js');
}
