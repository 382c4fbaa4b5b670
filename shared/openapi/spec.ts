/**
 * @module How a route is described for the OpenAPI document (docs/API.md is the prose of the same
 * contract). Bodies are zod schemas — the request ones are the very schemas that validate
 * requests — and errors are listed by status, code and reason, so the builder can render them as
 * the one error envelope and tests can check real answers against them. Never imported by a
 * worker: the document is generated into a module at build time (`npm run openapi`).
 */
import type { $ZodType } from "zod/v4/core";
import type { CapabilityOp } from "../capability/ops";

/** A zod schema, or a plain JSON Schema for what zod does not describe (bytes, text). */
export type SchemaSpec = $ZodType | { readonly json: Record<string, unknown> };

/** A named zod schema, rendered once into `components.schemas` and referenced. */
export interface NamedSchema {
  readonly name: string;
  readonly schema: $ZodType;
}

export interface BodySpec {
  /** Media type → schema (named ones go to components) and an example. */
  readonly content: Readonly<Record<string, { schema?: SchemaSpec | NamedSchema; example?: unknown }>>;
  readonly description?: string;
  readonly required?: boolean;
}

export interface SuccessSpec {
  readonly status: number;
  readonly description: string;
  /** Absent: no body (HEAD, 204, 304, 101). */
  readonly body?: BodySpec;
  /** Names of `components.headers` this answer carries (X-Corr-ID is added to every answer). */
  readonly headers?: readonly HeaderName[];
}

/** A refusal, rendered as the error envelope (shared/errors.ts) under its status. */
export interface ErrorSpec {
  readonly status: number;
  readonly code: string;
  readonly reason?: string;
  readonly when: string;
  readonly headers?: readonly HeaderName[];
  /** The envelope's `retryable`; by default true for 429 and 503, as in shared/errors.ts. */
  readonly retryable?: boolean;
}

export interface ParameterSpec {
  readonly name: string;
  readonly in: "path" | "query" | "header";
  readonly description: string;
  readonly required?: boolean;
  readonly schema?: SchemaSpec;
  readonly example?: unknown;
}

/** Request headers described once in `components.parameters`. */
export type CommonParameter = "Range" | "If-None-Match" | "If-Match" | "If-Range" | "Content-Encoding";

/** Admission stages a request passes (shared/service.ts): `ops` bypass them; writes may also be browned out. */
export type Admission = "ops" | "read" | "write";

export interface OperationSpec {
  readonly method: "GET" | "HEAD" | "POST" | "PUT" | "DELETE";
  /** The router template exactly as registered (`/o/:addr`, `/edge/assets/*`). */
  readonly template: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  /** The capability op a bearer token must allow; absent for public routes. */
  readonly capability?: CapabilityOp;
  /** The token is only needed unless this knob says otherwise (`/metrics` with METRICS_PUBLIC). */
  readonly capabilityUnless?: string;
  readonly admission: Admission;
  /** Path parameter schemas and descriptions by name (every `:name` and `*` of the template). */
  readonly parameters?: readonly (ParameterSpec | CommonParameter)[];
  readonly requestBody?: BodySpec;
  readonly responses: readonly SuccessSpec[];
  readonly errors?: readonly ErrorSpec[];
  /** A request a test can send to reach this route (path with parameters filled in). */
  readonly samplePath: string;
}

/** Response headers described once in `components.headers`. */
export type HeaderName =
  | "X-Corr-ID"
  | "Server-Timing"
  | "ETag"
  | "Retry-After"
  | "X-Reason"
  | "Location"
  | "Cache-Control"
  | "Content-Range"
  | "Accept-Ranges"
  | "Content-Disposition"
  | "Content-Security-Policy"
  | "Content-Encoding"
  | "WWW-Authenticate"
  | "Allow"
  | "Upgrade"
  | "Vary";
