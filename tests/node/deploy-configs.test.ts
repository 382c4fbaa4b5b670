import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain JS modules of the load harness
import { WORKER_CONFIGS } from "../../load/driver/targets.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

describe("deploy configs (npm run deploy:dry-run)", () => {
  it("bundles every wrangler config in every environment, as a deploy would, and records the sizes", () => {
    const out = join(mkdtempSync(join(tmpdir(), "ron-deploy-")), "sizes.json");
    const printed = execFileSync(process.execPath, [join(root, "scripts/dry-run-all.mjs"), "--out", out], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    });
    const { bundles } = JSON.parse(readFileSync(out, "utf8")) as { bundles: { worker: string; env: string | null; gzip_bytes?: number; error?: string }[] };
    expect(bundles.filter((b) => b.error)).toEqual([]);
    // every config declares staging and production, and each builds
    for (const worker of Object.keys(WORKER_CONFIGS)) {
      expect(bundles.filter((b) => b.worker === worker).map((b) => b.env).sort()).toEqual([null, "production", "staging"].sort());
      const top = bundles.find((b) => b.worker === worker && b.env === null)!;
      // an environment changes bindings, not code: its bundle is the top level's, within a few bytes
      for (const b of bundles.filter((b) => b.worker === worker && b.env)) expect(Math.abs(b.gzip_bytes! - top.gzip_bytes!)).toBeLessThan(256);
    }
    expect(printed).toMatch(new RegExp(`^${Object.keys(WORKER_CONFIGS).length * 3} bundled, 0 failed$`, "m"));
  }, 180_000);

  it("each environment binds every Durable Object and bucket the top level binds (wrangler does not inherit bindings)", () => {
    for (const config of Object.values(WORKER_CONFIGS) as string[]) {
      const text = readFileSync(join(root, config), "utf8");
      const top = bindingsOf(text, "");
      expect(top.length, config).toBeGreaterThan(0);
      for (const env of ["staging", "production"]) {
        expect(bindingsOf(text, `env.${env}.`), `${config} --env ${env}`).toEqual(top);
        if (text.includes("r2_buckets")) expect(text, `${config} --env ${env} persists objects`).toMatch(new RegExp(`\\[env\\.${env}\\.vars\\]\\s*\\nAMNESIA = "false"`));
        // an environment binds the same environment's workers
        const envTables = text.split(/^(?=\[)/m).filter((t) => t.startsWith(`[[env.${env}.`));
        for (const target of envTables.flatMap((t) => [...t.matchAll(/^(?:script_name|service) = "([^"]+)"/gm)].map((m) => m[1]))) expect(target, config).toMatch(new RegExp(`-${env}$`));
      }
    }
  });
});

/** `kind:name` of each binding table under `prefix` ("" = the top level), in file order. */
function bindingsOf(toml: string, prefix: string): string[] {
  const found: string[] = [];
  const tables = toml.split(/^(?=\[)/m);
  for (const table of tables) {
    const header = /^\[\[([^\]]+)\]\]/.exec(table)?.[1];
    if (!header) continue;
    const kind = header.startsWith(prefix) ? header.slice(prefix.length) : null;
    if (kind !== "durable_objects.bindings" && kind !== "r2_buckets" && kind !== "services") continue;
    const name = /^(?:name|binding) = "([^"]+)"/m.exec(table)?.[1];
    // a binding to another worker names that environment's worker: compare without the suffix
    const target = /^(?:script_name|service) = "([^"]+)"/m.exec(table)?.[1]?.replace(/-(staging|production)$/, "");
    found.push(`${kind}:${name}${target ? `@${target}` : ""}`);
  }
  return found;
}
