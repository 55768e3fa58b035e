#!/usr/bin/env node
// The `portero` command.
import { main } from './main.js';

const code = await main(process.argv.slice(2));
if (code !== null) process.exit(code);
