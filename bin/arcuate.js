#!/usr/bin/env node
// The `arcuate` command: the compiled CLI (npm run build).
import "../dist/src/cli.js";
