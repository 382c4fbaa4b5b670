/**
 * The generated API documents are valid OpenAPI 3.1 (checked by a maintained validator), every
 * `$ref` resolves, every example parses with the schema it illustrates, and the committed files
 * are what the generator builds today (`npm run openapi -- --check`).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import type { NamedSchema } from "../../shared/openapi/spec";
import { apiDocument, WORKER_OPERATIONS, type WorkerName } from "../../workers/api-documents";

const ROOT = join(import.meta.dirname, "../..");
const WORKERS = Object.keys(WORKER_OPERATIONS) as WorkerName[];
const read = (path: string) => JSON.parse(readFileSync(join(ROOT, path), "utf8"));

describe("OpenAPI documents", () => {
  it.each([...WORKERS.map((w) => `workers/${w}/openapi.json.txt`), "docs/openapi.json"])("%s is valid OpenAPI 3.1 and every $ref resolves", async (path) => {
    const validator = new Validator();
    const result = await validator.validate(read(path));
    expect(result.errors ?? [], path).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    const text = JSON.stringify(validator.resolveRefs());
    expect(text).not.toContain('"$ref"');
  });

  it("the committed documents are what the generator builds (npm run openapi -- --check)", () => {
    for (const worker of WORKERS) expect(read(`workers/${worker}/openapi.json.txt`), worker).toEqual(apiDocument(worker));
    expect(read("docs/openapi.json")).toEqual(apiDocument("micronode"));
    expect(execFileSync(process.execPath, ["scripts/openapi.mjs", "--check"], { cwd: ROOT, encoding: "utf8" })).toContain("up to date");
  });

  it("every example parses with the zod schema it illustrates", () => {
    let checked = 0;
    for (const op of WORKER_OPERATIONS.micronode) {
      const bodies = [op.requestBody, ...op.responses.map((r) => r.body)].filter((b) => b !== undefined);
      for (const body of bodies) {
        for (const [type, { schema, example }] of Object.entries(body.content)) {
          if (example === undefined || !schema || !("name" in schema)) continue;
          const parsed = (schema as NamedSchema).schema["~standard"].validate(example) as { issues?: unknown[] };
          expect(parsed.issues, `${op.operationId} ${type}: ${JSON.stringify(example)}`).toBeUndefined();
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(15);
  });
});
