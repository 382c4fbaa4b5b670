/**
 * @module Build an OpenAPI 3.1 document from route descriptions (./spec.ts): zod schemas become
 * JSON Schema 2020-12 (OpenAPI 3.1's dialect) through zod's own `toJSONSchema`, refusals become
 * the error envelope under their status, and the admission stages every route passes add their
 * refusals. Runs at build time (`npm run openapi`) and in tests, never in a worker.
 */
import type { $ZodType } from "zod/v4/core";
import * as z from "../zod";
import { admissionErrors, capabilityErrors, COMMON_HEADERS, COMMON_PARAMETERS, errorEnvelopeSchema, HEADER_CAP_ERROR } from "./common";
import type { BodySpec, ErrorSpec, NamedSchema, OperationSpec, ParameterSpec, SchemaSpec } from "./spec";

export interface DocumentOptions {
  /** The worker the document describes: micronode, interop, edge, overlay. */
  service: string;
  version: string;
  operations: readonly OperationSpec[];
}

type Json = Record<string, unknown>;

/** `/o/:addr` → `/o/{addr}`; the `*` tail of `/edge/assets/*` is the `{path}` parameter. */
export function openApiPath(template: string): string {
  return template.replace(/:(\w+)/g, "{$1}").replace(/\*$/, "{path}");
}

/** The path parameters a router template declares, in order. */
export function templateParameters(template: string): string[] {
  return [...template.matchAll(/:(\w+)|\*$/g)].map((m) => m[1] ?? "path");
}

const isNamed = (spec: SchemaSpec | NamedSchema): spec is NamedSchema => "name" in spec && "schema" in spec;
const isJson = (spec: SchemaSpec): spec is { json: Json } => "json" in spec && !("_zod" in spec);

function jsonSchemaOf(schema: $ZodType, io: "input" | "output"): Json {
  // `unrepresentable: "any"`: a transform (preprocess) accepts what its input schema says, shown as {}
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as Json;
  return rest;
}

export function buildDocument({ service, version, operations }: DocumentOptions): Json {
  const schemas: Record<string, Json> = { ErrorEnvelope: jsonSchemaOf(errorEnvelopeSchema, "output") };
  // each refusal's example envelope is described once and referenced from every route that may answer it
  const examples: Record<string, Json> = {};
  const exampleRef = (error: ErrorSpec): Json => {
    const value = { value: envelopeExample(error) };
    const base = `${error.code}${error.reason ? `.${error.reason}` : ""}`;
    let key = base;
    for (let n = 2; examples[key] && JSON.stringify(examples[key]) !== JSON.stringify(value); n++) key = `${base}-${n}`;
    examples[key] = value;
    return { $ref: `#/components/examples/${key}` };
  };
  // a status's refusals are described once per distinct set, and routes refer to it
  const refusals: Record<string, Json> = {};
  const refusalRef = (status: string, group: readonly ErrorSpec[], head: boolean): Json => {
    const base = [status, ...group.map((e) => e.reason ?? e.code)].join(".") + (head ? ".head" : "");
    const value = errorResponse(group, head, exampleRef);
    let key = base;
    for (let n = 2; refusals[key] && JSON.stringify(refusals[key]) !== JSON.stringify(value); n++) key = `${base}-${n}`;
    refusals[key] = value;
    return { $ref: `#/components/responses/${key}` };
  };
  const owners = new Map<string, $ZodType>([["ErrorEnvelope", errorEnvelopeSchema]]);

  const schemaOf = (spec: SchemaSpec | NamedSchema, io: "input" | "output"): Json => {
    if (isNamed(spec)) {
      const owner = owners.get(spec.name);
      if (owner && owner !== spec.schema) throw new Error(`two schemas are named ${spec.name}`);
      owners.set(spec.name, spec.schema);
      schemas[spec.name] = jsonSchemaOf(spec.schema, io);
      return { $ref: `#/components/schemas/${spec.name}` };
    }
    return isJson(spec) ? spec.json : jsonSchemaOf(spec as $ZodType, io);
  };

  const bodyOf = (body: BodySpec, io: "input" | "output"): Json => {
    const content: Json = {};
    for (const [type, { schema, example }] of Object.entries(body.content)) {
      content[type] = { ...(schema ? { schema: schemaOf(schema, io) } : {}), ...(example !== undefined ? { example } : {}) };
    }
    return { ...(body.description ? { description: body.description } : {}), content };
  };

  const parameterOf = (p: ParameterSpec): Json => ({
    name: p.name,
    in: p.in,
    description: p.description,
    required: p.in === "path" ? true : (p.required ?? false),
    schema: p.schema ? schemaOf(p.schema, "input") : { type: "string" },
    ...(p.example !== undefined ? { example: p.example } : {}),
  });

  const paths: Record<string, Json> = {};
  for (const op of operations) {
    const own = (op.parameters ?? []).filter((p): p is ParameterSpec => typeof p !== "string");
    const parameters: Json[] = templateParameters(op.template).map((name) => {
      const spec = own.find((p) => p.in === "path" && p.name === name);
      if (!spec) throw new Error(`${op.method} ${op.template}: describe path parameter ${name}`);
      return parameterOf(spec);
    });
    for (const p of op.parameters ?? []) {
      if (typeof p === "string") parameters.push({ $ref: `#/components/parameters/${p}` });
      else if (p.in !== "path") parameters.push(parameterOf(p));
    }
    parameters.push({ $ref: "#/components/parameters/X-Corr-ID" });

    const responses: Record<string, Json> = {};
    for (const ok of op.responses) {
      responses[String(ok.status)] = {
        description: ok.description,
        headers: headersOf(ok.headers),
        ...(ok.body && op.method !== "HEAD" ? { content: bodyOf(ok.body, "output").content } : {}),
      };
    }
    for (const [status, group] of groupByStatus(operationErrors(op))) {
      if (responses[status]) throw new Error(`${op.method} ${op.template}: ${status} is both a success and a refusal`);
      responses[status] = refusalRef(status, group, op.method === "HEAD");
    }
    responses.default = {
      description: "Any other refusal, in the same envelope; `500 INTERNAL` is a bug (logged with the corr id).",
      headers: headersOf([]),
      ...(op.method === "HEAD" ? {} : { content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorEnvelope" } } } }),
    };

    const needs = op.capability
      ? `\n\nNeeds \`Authorization: Bearer <capability token>\` allowing op \`${op.capability}\`${op.capabilityUnless ? ` unless \`${op.capabilityUnless}\`` : ""} (docs/SECURITY.md).`
      : "";
    const path = openApiPath(op.template);
    const item = (paths[path] ??= {});
    const key = op.method.toLowerCase();
    if (item[key]) throw new Error(`${op.method} ${op.template} is described twice`);
    item[key] = {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.description || needs ? { description: `${op.description ?? ""}${needs}`.trim() } : {}),
      tags: [op.tag],
      // public routes say so explicitly; with a knob that can open it, the token is optional ({})
      security: op.capability ? [{ capability: [] }, ...(op.capabilityUnless ? [{}] : [])] : [],
      ...(op.capability ? { "x-capability-op": op.capability } : {}),
      parameters,
      ...(op.requestBody ? { requestBody: { required: op.requestBody.required ?? true, ...bodyOf(op.requestBody, "input") } } : {}),
      responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b))),
    };
  }

  const tags = [...new Set(operations.map((o) => o.tag))].sort().map((name) => ({ name }));
  return pruneComponents({
    openapi: "3.1.0",
    info: {
      title: `ron-workers ${service}`,
      version,
      summary: `The HTTP API the ${service} worker serves.`,
      description: INFO_DESCRIPTION,
      license: { name: "See the repository", identifier: "NOASSERTION" },
    },
    servers: [
      { url: "/", description: "the origin serving this document" },
      { url: "http://127.0.0.1:8787", description: "local (`npm start`)" },
    ],
    tags,
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))),
      responses: Object.fromEntries(Object.entries(refusals).sort(([a], [b]) => a.localeCompare(b))),
      headers: COMMON_HEADERS,
      examples: Object.fromEntries(Object.entries(examples).sort(([a], [b]) => a.localeCompare(b))),
      parameters: COMMON_PARAMETERS,
      securitySchemes: {
        capability: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "macaroon (libmacaroons v2, unpadded base64url)",
          description:
            "A capability token: its ops and caveats (`op`, `prefix`, `topic`, `expires`, `max_bytes`) decide what it allows. " +
            "No token, a bad or an expired one: 401 with `WWW-Authenticate: Bearer`; a caveat that does not allow the request: 403; " +
            "no root key configured: 503 `NOT_CONFIGURED`. Minting and attenuating: docs/SECURITY.md.",
        },
      },
    },
  });
}

/** Drop the shared headers, parameters, examples and responses no route of this document refers to. */
function pruneComponents(document: Json): Json {
  const components = document.components as Record<string, Record<string, unknown>>;
  const used = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) {
        if (key === "$ref" && typeof inner === "string" && !used.has(inner)) {
          used.add(inner);
          const [, , kind, name] = inner.split("/");
          visit(components[kind!]?.[name!]);
        } else visit(inner);
      }
    }
  };
  visit(document.paths);
  for (const kind of ["headers", "parameters", "examples", "responses", "schemas"]) {
    components[kind] = Object.fromEntries(Object.entries(components[kind]!).filter(([name]) => used.has(`#/components/${kind}/${name}`)));
  }
  return document;
}

const INFO_DESCRIPTION =
  "Every answer carries `X-Corr-ID` (taken from the request or generated) and `X-Content-Type-Options: nosniff`. " +
  "Every refusal is the JSON error envelope (`ErrorEnvelope`) with a stable `code` and, usually, a `reason`; " +
  "shed answers (`429`, `503`) carry `Retry-After` and `X-Reason`. A known path asked with another method answers " +
  "`405 METHOD_NOT_ALLOWED` with `Allow`; an unknown path `404 NOT_FOUND`. Prose and metrics: docs/API.md.";

/** Every refusal an operation documents: its own, its capability check's, and its admission stages'. */
export function operationErrors(op: OperationSpec): ErrorSpec[] {
  return [
    ...(op.errors ?? []),
    ...(op.capability ? capabilityErrors(op.capabilityUnless) : []),
    ...(op.admission === "ops" ? [HEADER_CAP_ERROR] : admissionErrors(op.admission)),
  ];
}

function headersOf(names: readonly string[] = []): Json {
  return Object.fromEntries(["X-Corr-ID", "Server-Timing", ...names].map((name) => [name, { $ref: `#/components/headers/${name}` }]));
}

function groupByStatus(errors: readonly ErrorSpec[]): Map<string, ErrorSpec[]> {
  const groups = new Map<string, ErrorSpec[]>();
  for (const error of errors) {
    const key = String(error.status);
    const group = groups.get(key) ?? [];
    // the same refusal listed twice (a route's own and a stage's) is described once
    if (!group.some((e) => e.code === error.code && e.reason === error.reason)) group.push(error);
    groups.set(key, group);
  }
  return groups;
}

/** The envelope a refusal answers with, as an example (the message is indicative; corr_id varies). */
export function envelopeExample(error: ErrorSpec): Json {
  const retryable = error.retryable ?? (error.status === 429 || error.status === 503);
  const shed = error.headers?.includes("Retry-After");
  return {
    code: error.code,
    message: error.when,
    retryable,
    corr_id: "5b8e2c0a-93f1-4c57-8d7e-2f4a6c1b9e03",
    ...(error.reason ? { reason: error.reason } : {}),
    ...(shed ? { retry_after_ms: 1000 } : {}),
  };
}

function errorResponse(group: readonly ErrorSpec[], head: boolean, exampleRef: (error: ErrorSpec) => Json): Json {
  const description = group.map((e) => `\`${e.code}\`${e.reason ? ` (\`${e.reason}\`)` : ""}: ${e.when}`).join("; ");
  const headers = [...new Set(group.flatMap((e) => e.headers ?? []))];
  const examples = Object.fromEntries(group.map((e) => [`${e.code}${e.reason ? `.${e.reason}` : ""}`, exampleRef(e)]));
  return {
    description,
    headers: headersOf(headers),
    ...(head ? {} : { content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorEnvelope" }, examples } } }),
  };
}
