// libsignal prints whole Signal sessions (keys included) to the console; the gateway
// routes console output through guardConsole, and so do the tests, so their output
// stays readable and key-free.
import { createLogger, guardConsole } from '../src/logging/logger.js';

guardConsole(createLogger({ level: 'silent' }));
