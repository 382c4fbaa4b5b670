export function median(xs: number[]): number;
export interface GateRun {
  p95_ms: Record<string, number>;
  throughput_rps: number;
  rss_max_bytes: number;
  cold_start_ms: number;
}
export interface GateLimits {
  p95_rise: number;
  throughput_fall: number;
  memory_rise: number;
  cold_start_rise: number;
  p95_floor_ms: number;
}
export interface GateCheck {
  metric: string;
  base: number;
  head: number;
  change: number;
  limit: string;
  ok: boolean;
}
export function compareRuns(base: GateRun[], head: GateRun[], limits: GateLimits): { ok: boolean; checks: GateCheck[] };
