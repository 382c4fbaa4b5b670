import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Dependencies point one way: workers/ → durable-objects/ → shared/. RPC contracts live in
// shared/ beside their clients, so nothing in shared/ needs a Durable Object's module.
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const LAYERS = ["shared", "durable-objects", "workers"] as const;
type Layer = (typeof LAYERS)[number];

/** Module specifiers of static imports, re-exports, `import type` and dynamic `import("…")`. */
function specifiersOf(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gms)) found.push(m[1]!);
  for (const m of source.matchAll(/^\s*import\s*["']([^"']+)["']/gm)) found.push(m[1]!);
  for (const m of source.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) found.push(m[1]!);
  return found;
}

function layerOf(path: string): Layer | null {
  const top = relative(root, path).split(/[\\/]/)[0];
  return (LAYERS as readonly string[]).includes(top!) ? (top as Layer) : null;
}

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|mts|mjs|js)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** Every import that points up the layers (a lower layer using a higher one), as `file → target`. */
function upwardArrows(): string[] {
  const arrows: string[] = [];
  for (const layer of ["shared", "durable-objects"] as const) {
    for (const file of sourcesUnder(join(root, layer))) {
      for (const spec of specifiersOf(readFileSync(file, "utf8"))) {
        if (!spec.startsWith(".")) continue;
        const target = layerOf(resolve(dirname(file), spec));
        if (target && LAYERS.indexOf(target) > LAYERS.indexOf(layer)) arrows.push(`${relative(root, file)} → ${spec}`);
      }
    }
  }
  return arrows;
}

describe("layering: workers → durable-objects → shared", () => {
  it("finds import, export-from, import type and dynamic import specifiers", () => {
    const source = [
      'import { a } from "../durable-objects/x";',
      'import type {\n  B,\n  C,\n} from "../../workers/y";',
      'export { D } from "./z";',
      'const lazy = () => import("../durable-objects/w");',
      'import "./side-effect";',
    ].join("\n");
    expect(specifiersOf(source)).toEqual(["../durable-objects/x", "../../workers/y", "./z", "./side-effect", "../durable-objects/w"]);
  });

  it("no module in shared/ imports durable-objects/ or workers/, and none in durable-objects/ imports workers/", () => {
    expect(upwardArrows()).toEqual([]);
  });
});
