/** @module The API document's own routes, as the document describes them (build time only). */
import type { OperationSpec } from "./spec";

const document = (method: "GET" | "HEAD"): OperationSpec => ({
  method,
  template: "/openapi.json",
  operationId: method === "GET" ? "openApiDocument" : "openApiDocumentHead",
  summary: "This document: the worker's routes, bodies, answers and security (OpenAPI 3.1)",
  description: "Public: it only describes the API. Generated from the same zod schemas that validate requests (`npm run openapi`); `docs/openapi.json` is micronode's.",
  tag: "docs",
  admission: "read",
  parameters: ["If-None-Match"],
  responses: [
    { status: 200, description: "The document.", headers: ["ETag", "Cache-Control"], ...(method === "GET" ? { body: { content: { "application/json": { schema: { json: { type: "object", description: "An OpenAPI 3.1 document." } } } } } } : {}) },
    { status: 304, description: "`If-None-Match` matched.", headers: ["ETag", "Cache-Control"] },
  ],
  samplePath: "/openapi.json",
});

export const apiDocsApi: OperationSpec[] = [
  document("GET"),
  document("HEAD"),
  {
    method: "GET",
    template: "/docs",
    operationId: "apiPage",
    summary: "A browsable page of this document (self-contained HTML)",
    tag: "docs",
    admission: "read",
    responses: [{ status: 200, description: "The page; it fetches /openapi.json.", headers: ["Cache-Control", "Content-Security-Policy"], body: { content: { "text/html": { schema: { json: { type: "string" } } } } } }],
    samplePath: "/docs",
  },
];
