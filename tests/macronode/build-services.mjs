// Bundles the macronode's service workers (interop, overlay, edge) for the `macronode` test
// project, where they run as auxiliary workers beside the gateway: esbuild, as wrangler bundles
// them (workerd conditions; `cloudflare:` and `node:` modules left to the runtime; the API document
// inlined as text), with WASM modules left as imports of the real files so workerd compiles them
// ahead of time. Quick (well under a second for all three), so vitest's config can call it.
import { build } from "esbuild";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");

/** Wrangler config and worker name of each service, as the gateway's service bindings name them. */
export const MACRONODE_SERVICES = {
  "ron-interop": "workers/interop",
  "ron-overlay": "workers/overlay",
  "ron-edge": "workers/edge",
};

/** Build every service into `<outDir>/<name>/index.mjs`; returns `{ name: scriptPath }`. */
export async function buildMacronodeServices(outDir = join(ROOT, "load/.build/macronode")) {
  const built = {};
  for (const [name, dir] of Object.entries(MACRONODE_SERVICES)) {
    const outfile = join(outDir, name, "index.mjs");
    await build({
      entryPoints: [join(ROOT, dir, "index.ts")],
      outfile,
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      conditions: ["workerd", "worker", "browser"],
      mainFields: ["browser", "module", "main"],
      external: ["cloudflare:*", "node:*"],
      loader: { ".txt": "text", ".html": "text" },
      logLevel: "error",
      plugins: [
        {
          name: "wasm-modules",
          setup(pluginBuild) {
            // keep `import x from "./y.wasm"` as an import of the real file, relative to the bundle
            pluginBuild.onResolve({ filter: /\.wasm$/ }, (args) => ({ path: relative(dirname(outfile), join(args.resolveDir, args.path)), external: true }));
          },
        },
      ],
    });
    built[name] = outfile;
  }
  return built;
}
