#!/usr/bin/env node
// The `wa-connd` command: runs src/cli/main.ts through tsx's loader, in this process
// (so signals and exit codes are the CLI's own). No build step is needed.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
