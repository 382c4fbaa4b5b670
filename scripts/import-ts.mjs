// Import TypeScript from Node scripts: bundle the given modules with esbuild into a temporary
// file and import it (Node 20 cannot load .ts). Used by `npm run oap`, `npm run overlay` and
// the load driver's overlay clients.
import { build } from "esbuild";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The merged exports of `modules` (paths relative to the repository root, or absolute). */
export async function importTs(...modules) {
  const out = mkdtempSync(join(tmpdir(), "ron-ts-"));
  try {
    const entry = join(out, "entry.ts");
    writeFileSync(entry, modules.map((m) => `export * from ${JSON.stringify(resolve(ROOT, m))};`).join("\n") + "\n");
    await build({ entryPoints: [entry], bundle: true, format: "esm", platform: "node", target: "node20", outfile: join(out, "bundle.mjs"), logLevel: "error",
      // CommonJS dependencies (the macaroon library) require Node built-ins from inside an ES module
      banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' } });
    return await import(pathToFileURL(join(out, "bundle.mjs")).href);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
