import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain JS script module
import { WORKER_TYPES, workerTypes } from "../../scripts/worker-types.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
// inside the worktree (git-ignored .wrangler/), so the copy's tsconfig finds node_modules' types
mkdirSync(join(root, ".wrangler"), { recursive: true });
const scratch = mkdtempSync(join(root, ".wrangler", "worker-types-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * Generate the edge worker's Env from `configText` (a copy of its wrangler.toml) and compile its
 * env-check.ts against it, as `npm run typecheck` does for the real config: the compiler's verdict.
 */
function typecheckEdgeWith(name: string, configText: string): { ok: boolean; output: string } {
  const dir = join(scratch, name);
  mkdirSync(dir);
  // the copy's `main` must still be the edge worker's entry
  writeFileSync(join(dir, "wrangler.toml"), configText.replace(/^main = "index.ts"$/m, `main = "${join(root, "workers/edge/index.ts")}"`));
  workerTypes("edge", { configs: [join(dir, "wrangler.toml"), ...WORKER_TYPES.edge.slice(1)], out: join(dir, "worker-configuration.d.ts") });
  const tsconfig = {
    extends: join(root, "tsconfig.json"),
    files: [],
    include: [join(root, "worker-configuration.d.ts"), join(root, "shared/*.d.ts"), join(dir, "worker-configuration.d.ts"), join(root, "workers/edge/env-check.ts")],
    exclude: [join(root, "shared/**/node.ts")],
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
  const run = spawnSync(join(root, "node_modules/.bin/tsc"), ["--noEmit", "-p", join(dir, "tsconfig.json")], { cwd: root, encoding: "utf8" });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

describe("worker binding types (npm run types, npm run typecheck)", () => {
  it("every committed workers/*/worker-configuration.d.ts matches its wrangler.toml (else: npm run types)", () => {
    const printed = execFileSync(process.execPath, [join(root, "scripts/worker-types.mjs"), "--check"], { cwd: root, encoding: "utf8" });
    expect(printed).toMatch(new RegExp(`^${Object.keys(WORKER_TYPES).length} workers' binding types match their configs$`, "m"));
  }, 120_000);

  it("a config without a binding the worker's facets need fails the typecheck, naming the binding", () => {
    const config = readFileSync(join(root, "workers/edge/wrangler.toml"), "utf8");
    const auditBinding = /\[\[durable_objects\.bindings\]\]\nname = "AUDIT_LOG"\nclass_name = "AuditLog"\nscript_name = "ron-interop"\n/;
    expect(config).toMatch(auditBinding);

    // the config as it is passes (so a failure below is the missing binding's, not the harness's)
    const asIs = typecheckEdgeWith("as-is", config);
    expect(asIs.output).toBe("");
    expect(asIs.ok).toBe(true);

    // the edge facet audits asset publishes: without AUDIT_LOG the worker's Env is not an EdgeEnv
    const without = typecheckEdgeWith("without-audit-log", config.replace(auditBinding, ""));
    expect(without.ok).toBe(false);
    expect(without.output).toMatch(/env-check\.ts.*Type 'Env' is not assignable to type 'EdgeEnv'/);
    expect(without.output).toMatch(/AUDIT_LOG/);
  }, 120_000);
});
