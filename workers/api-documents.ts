/**
 * @module Which routes each worker's API document describes: the ops routes, the API document's
 * own, and those of the facets the worker mounts (as in workers/<name>/index.ts). Build time and
 * tests only; `npm run openapi` writes the results into workers/<name>/openapi.json.txt (what the
 * worker serves) and docs/openapi.json (micronode's).
 */
import packageJson from "../package.json";
import { buildDocument } from "../shared/openapi/build";
import { apiDocsApi } from "../shared/openapi/serve-api";
import type { OperationSpec } from "../shared/openapi/spec";
import { opsApi } from "../shared/ops/api";
import { edgeApi } from "./edge/api";
import { interopApi } from "./interop/api";
import { overlayApi } from "./overlay/api";

export const WORKER_OPERATIONS: Record<"micronode" | "interop" | "edge" | "overlay", readonly OperationSpec[]> = {
  micronode: [...opsApi, ...interopApi, ...overlayApi, ...edgeApi, ...apiDocsApi],
  interop: [...opsApi, ...interopApi, ...apiDocsApi],
  edge: [...opsApi, ...edgeApi, ...apiDocsApi],
  overlay: [...opsApi, ...overlayApi, ...apiDocsApi],
};

export type WorkerName = keyof typeof WORKER_OPERATIONS;

export function apiDocument(worker: WorkerName): Record<string, unknown> {
  return buildDocument({ service: worker, version: packageJson.version, operations: WORKER_OPERATIONS[worker] });
}
