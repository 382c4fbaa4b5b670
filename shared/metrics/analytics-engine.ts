/**
 * @module Golden metrics that survive isolates: when a Workers Analytics Engine dataset is bound
 * as `METRICS_DATASET`, every request writes one data point (docs/OBSERVABILITY.md has the
 * layout and SQL). `writeDataPoint` is synchronous and does not wait for I/O, so it needs no
 * `waitUntil`; a refused point is counted, never thrown at the request.
 */
import type { RequestTiming } from "../timing";
import { metrics } from "./index";

export interface MetricsDatasetEnv {
  METRICS_DATASET?: AnalyticsEngineDataset;
}

/** The column layout the SQL in docs/OBSERVABILITY.md reads: change both together. */
export const POINT_BLOBS = ["service", "route", "method", "status_class", "status", "cache"] as const;
export const POINT_DOUBLES = ["total_ms", "store_ms", "do_ms", "hash_ms", "response_bytes"] as const;
/** Analytics Engine's limit on the index (bytes); route templates are far shorter. */
const MAX_INDEX_BYTES = 96;

const STATUS_CLASS = ["0xx", "1xx", "2xx", "3xx", "4xx", "5xx"] as const;

export interface RequestOutcome {
  service: string;
  route: string;
  method: string;
  status: number;
  /** Body bytes when the response declares them (Content-Length), else 0. */
  responseBytes: number;
  totalMs: number;
  timing: RequestTiming;
}

export function writeRequestPoint(dataset: AnalyticsEngineDataset, o: RequestOutcome): void {
  try {
    dataset.writeDataPoint({
      indexes: [o.route.length <= MAX_INDEX_BYTES ? o.route : o.route.slice(0, MAX_INDEX_BYTES)],
      blobs: [o.service, o.route, o.method, STATUS_CLASS[Math.floor(o.status / 100)] ?? "0xx", String(o.status), o.timing.cacheResult ?? ""],
      doubles: [o.totalMs, o.timing.ms("store"), o.timing.ms("do"), o.timing.ms("hash"), o.responseBytes],
    });
  } catch {
    metrics.analyticsWriteErrors.inc();
  }
}
