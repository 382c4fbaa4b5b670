#!/usr/bin/env node
// npm run -s ts -- <file.ts> [args...]   run a TypeScript file on Node 20, which cannot load .ts
// itself: the file and what it imports are bundled with esbuild (scripts/import-ts.mjs) and run;
// its arguments follow it in process.argv. For the SDK's examples (docs/SDK.md) and your own.
import { resolve } from "node:path";
import { importTs } from "./import-ts.mjs";

const [file] = process.argv.slice(2);
if (!file || !/\.[cm]?tsx?$/.test(file)) {
  console.error("usage: npm run -s ts -- <file.ts> [args...]");
  process.exit(2);
}
await importTs(resolve(process.cwd(), file));
