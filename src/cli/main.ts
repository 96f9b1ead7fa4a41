#!/usr/bin/env node
import { main, reportError } from './program.js';

// `stackshift ... --help | head -1`: the reader went away; stop quietly instead of dying with an EPIPE trace
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw err;
  });
}

// a promise nobody awaited failed: report it like any error (one line, hint, exit 2), never as a stack trace
process.on('unhandledRejection', (reason) => {
  process.exit(reportError(reason) || 2);
});

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 2;
  },
);
