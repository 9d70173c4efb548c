#!/usr/bin/env node
import { exitOnSignals, runCli } from './cli/index.js';

const write = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(text);

runCli(process.argv.slice(2), { env: process.env, stdout: write(process.stdout), stderr: write(process.stderr) }).then(
  (outcome) => {
    if (typeof outcome === 'number') process.exitCode = outcome;
    else exitOnSignals(outcome, process, (code) => process.exit(code), write(process.stderr));
  },
  (error: unknown) => {
    process.stderr.write(`bloodcell-web-demo: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 70;
  },
);
