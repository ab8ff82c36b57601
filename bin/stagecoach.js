#!/usr/bin/env node
// Thin launcher: `npm run build` (run by `prepare` on install) compiles the CLI
// to dist/ and bundles it into dist/bundle/ (scripts/bundle-cli.mjs).
import { runCli } from '../dist/bundle/main.js';

process.exitCode = await runCli(process.argv.slice(2));
