#!/usr/bin/env node
// node load/schema-diff.mjs --base <git ref>: run the same ~58,000 inputs through the zod schemas
// of <ref> and of the working tree (config, overlay protocol, PUT envelope, mailbox bodies) and
// report every difference in success, parsed data or issues (code, path, message, bounds…).
// Each tree runs in its own process: zod keeps its configuration (the locale) on globalThis.
// Exit 1 on any difference. Written for the zod/mini switch (docs/DECISIONS.md).
import { execFileSync, execSync } from "node:child_process";
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ROOT } from "../scripts/import-ts.mjs";

const { values } = parseArgs({ options: { base: { type: "string" }, run: { type: "string" }, out: { type: "string" } } });
const TREE_DIRS = ["shared", "workers", "durable-objects"];
const SCHEMAS = ["configSchema", "helloSchema", "readySchema", "confirmSchema", "creditSchema", "gossipRequestSchema", "gossipHeaderSchema", "putEnvelopeSchema", "sendSchema", "recvSchema", "nackSchema", "dlqSchema"];

/** Bundle one tree's schemas (the mailbox ones are module-private: a copy of the module exports them). */
async function bundleSchemas(tree, outfile) {
  const { build } = await import("esbuild");
  const routes = join(tree, "workers/interop/mailbox-routes.ts");
  writeFileSync(routes, readFileSync(routes, "utf8") + "\nexport { sendSchema, recvSchema, nackSchema, dlqSchema };\n");
  const entry = join(tree, "schema-diff-entry.ts");
  writeFileSync(
    entry,
    [
      'export { configSchema, parseConfig, parseKnobs, CONFIG_KEYS } from "./shared/config";',
      'export { helloSchema, readySchema, confirmSchema, creditSchema, gossipRequestSchema, gossipHeaderSchema } from "./shared/overlay/protocol";',
      'export { putEnvelopeSchema, parseEnvelope } from "./workers/interop/put-request";',
      'export { sendSchema, recvSchema, nackSchema, dlqSchema } from "./workers/interop/mailbox-routes";',
    ].join("\n"),
  );
  await build({ entryPoints: [entry], bundle: true, format: "esm", platform: "node", outfile, external: ["cloudflare:*"], loader: { ".wasm": "binary" }, logLevel: "error", nodePaths: [join(ROOT, "node_modules")] });
}

/** In a child process: every input through one tree's schemas, results in input order. */
async function runInputs(bundle, out) {
  const fc = (await import("fast-check")).default;
  const M = await import(pathToFileURL(bundle).href);
  const results = [];
  const text = (v) => JSON.stringify(v, (_k, x) => (x === undefined ? "<undef>" : typeof x === "bigint" ? `${x}n` : x));
  const summary = (r) => text(r.success ? { ok: r.data } : { issues: r.error.issues.map(({ input, inst, ...rest }) => rest) });
  const record = (name, value, result) => results.push([name, text(value)?.slice(0, 300), result]);
  const compare = (name, value) => record(name, value, summary(M[name].safeParse(value)));
  const b64 = (n) => Buffer.alloc(n, 7).toString("base64");
  const pool = [undefined, null, "", " ", "x", "abc", "0", "1", "-1", "1.5", "5000", " 250 ", "1e3", "NaN", "Infinity", "true", "FALSE", "yes", "off", "maybe", 0, 1, -1, 1.5, 4096, 65536, 1048576, 1e12, NaN, Infinity, true, false, [], [1], ["a"], {}, { a: 1 }, "a".repeat(300), "b".repeat(5000),
    "https://example.com", "https://example.com/base/", "http://user:pw@x.y", "https://x.y/?q=1", "https://x.y/#f", "ftp://x", "https://key@o1.ingest.sentry.io/1",
    "service", "ip", "header:x-client", "header:", "sandbox", "attachment", "live", "static", "http", "https", "hybrid", "pq_only",
    "a.example:8080,b.example", "Bad Host", "tiles=maps/x.pmtiles", "tiles=maps/x.pmtiles@" + "a".repeat(64), "BAD=x",
    "6c6f63616c2068617272657373206b6579202d206c6f6f706261636b206f6e6c79", "short", "abcdefgh",
    b64(16), b64(32), b64(1184), b64(1088), b64(16) + "=", "AAAA=", "!!!", "text/plain", "text/plain; charset=utf-8", "not a type", "gzip", "zstd", "br", "topic.a-b_c", "UPPER",
    "hello", "ready", "confirm", "credit", "subscribe", "unsubscribe", { x: "1" }];
  const pick = fc.constantFrom(...pool);
  const keys = M.CONFIG_KEYS;
  for (const key of keys) for (const v of pool) compare("configSchema", { [key]: v });
  fc.assert(fc.property(fc.dictionary(fc.constantFrom(...keys), pick, { maxKeys: 6 }), (env) => { compare("configSchema", env); return true; }), { numRuns: 4000, seed: 1 });
  for (const key of keys) for (const v of pool) record("parseConfig", { [key]: v }, JSON.stringify([M.parseConfig({ [key]: v }), M.parseKnobs({ [key]: v }, keys)]));
  const hello = { op: "hello", ua: "sdk/1", versions: [1], features: { compression: [], pq: "hybrid" }, max_frame: 65536, token: "t", nonce: b64(16), key_shares: { x25519: b64(32), mlkem768: b64(1184) } };
  const ready = { op: "ready", version: 1, session: "s", pq: "off", features: { compression: [] }, limits: { max_frame: 1, chunk: 2, inflight: 3, rps: 4, send_window: 5, idle_timeout_ms: 6 }, nonce: b64(16), key_shares: { x25519: b64(32), mlkem768_ct: b64(1088) }, mac: "m" };
  const samples = {
    helloSchema: [hello, { ...hello, features: { pq: "off" }, key_shares: { x25519: b64(32) } }],
    readySchema: [ready],
    confirmSchema: [{ op: "confirm", mac: b64(32) }],
    creditSchema: [{ op: "credit", n: 8 }],
    gossipRequestSchema: [{ op: "subscribe", topic: "t" }, { op: "unsubscribe", topic: "a.b" }],
    gossipHeaderSchema: [{ topic: "t", id: "x:1", ttl_ms: 100 }, { topic: "t", id: "y" }],
    putEnvelopeSchema: [{ payload: "aGk=" }, { payload: "aGk=", meta: { type: "text/plain", content_encoding: "gzip", provider: "github" } }],
    sendSchema: [{ topic: "t", idem_key: "k", payload_b64: "" }, { topic: "t", idem_key: "k", payload_b64: "aGk=", attrs: { a: "b" } }],
    recvSchema: [{ topic: "t" }, { topic: "t", visibility_ms: 1000, max_messages: 5 }],
    nackSchema: [{}, { reason: "r" }],
    dlqSchema: [{ topic: "t" }, { topic: "t", max_messages: 100 }],
  };
  const paths = (value, prefix = []) => (value === null || typeof value !== "object" ? [] : Object.keys(value).flatMap((k) => [[...prefix, k], ...paths(value[k], [...prefix, k])]));
  const setAt = (value, path, v, remove = false) => {
    const copy = structuredClone(value);
    let at = copy;
    for (const k of path.slice(0, -1)) at = at[k];
    if (remove) delete at[path.at(-1)];
    else at[path.at(-1)] = v;
    return copy;
  };
  for (const [name, list] of Object.entries(samples)) {
    for (const sample of list) {
      compare(name, sample);
      for (const v of pool) compare(name, v);
      for (const path of paths(sample)) {
        compare(name, setAt(sample, path, undefined, true));
        for (const v of pool) compare(name, setAt(sample, path, v));
        compare(name, setAt(sample, [...path.slice(0, -1), "extra"], 1));
      }
      fc.assert(fc.property(fc.anything(), (v) => { compare(name, v); return true; }), { numRuns: 300, seed: 2 });
      const ps = paths(sample);
      if (!ps.length) continue;
      fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(...ps), pick), { maxLength: 4 }), (edits) => {
        let value = sample;
        for (const [p, v] of edits) {
          try {
            value = setAt(value, p, v);
          } catch {
            // the path is gone after an earlier edit
          }
        }
        compare(name, value);
        return true;
      }), { numRuns: 1500, seed: 3 });
    }
  }
  for (const body of ["{}", "[]", "1", '{"payload":1}', '{"payload":"x","meta":{"provider":""}}']) {
    let result;
    try {
      result = JSON.stringify(M.parseEnvelope(body));
    } catch (e) {
      result = `${e.constructor.name} ${e.message} ${JSON.stringify(e)}`;
    }
    record("parseEnvelope", body, result);
  }
  writeFileSync(out, JSON.stringify(results));
}

if (values.run) {
  await runInputs(values.run, values.out);
} else {
  if (!values.base) throw new Error("usage: node load/schema-diff.mjs --base <git ref>");
  const work = mkdtempSync(join(tmpdir(), "ron-schema-diff-"));
  try {
    const trees = { base: join(work, "base"), head: join(work, "head") };
    execSync(`mkdir -p ${trees.base} && git -C ${ROOT} archive ${values.base} ${TREE_DIRS.join(" ")} | tar -x -C ${trees.base}`);
    for (const dir of TREE_DIRS) cpSync(join(ROOT, dir), join(trees.head, dir), { recursive: true });
    copyFileSync(join(ROOT, "shared/blake3/blake3.wasm"), join(trees.base, "shared/blake3/blake3.wasm")); // built by postinstall, not in git
    copyFileSync(join(ROOT, "shared/blake3/blake3-simd.wasm"), join(trees.base, "shared/blake3/blake3-simd.wasm")); // (a base before the SIMD engine ignores it)
    const outputs = {};
    for (const [name, tree] of Object.entries(trees)) {
      symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"));
      await bundleSchemas(tree, join(work, `${name}.mjs`));
      outputs[name] = join(work, `${name}.json`);
      execFileSync(process.execPath, [process.argv[1], "--run", join(work, `${name}.mjs`), "--out", outputs[name]], { stdio: "inherit" });
    }
    const a = JSON.parse(readFileSync(outputs.base, "utf8"));
    const b = JSON.parse(readFileSync(outputs.head, "utf8"));
    if (a.length !== b.length) throw new Error(`the trees saw different inputs (${a.length} vs ${b.length})`);
    let differences = 0;
    for (let i = 0; i < a.length; i++) {
      if (a[i][1] !== b[i][1]) throw new Error(`inputs diverge at ${i}`);
      if (a[i][2] === b[i][2]) continue;
      if (++differences <= 10) console.log(`DIFF ${a[i][0]} ${a[i][1]}\n  ${values.base}: ${a[i][2].slice(0, 500)}\n  working tree: ${b[i][2].slice(0, 500)}`);
    }
    console.log(`${a.length} inputs compared, ${differences} differences`);
    process.exitCode = differences ? 1 : 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
