import type { Analysis } from "./analyse.mjs";
export interface ProfileOptions {
  scenario: string;
  bundle: string;
  seconds?: number;
  durationS?: number;
  rate?: number;
  max?: boolean;
  connections?: number;
  vars?: Record<string, string>;
  samplingIntervalUs?: number;
  top?: number;
  outDir?: string;
  command?: string;
}
export function profileScenario(o: ProfileOptions): Promise<{
  files: { cpuprofile: string; svg: string; md: string };
  table: string;
  analysis: Analysis;
  report: { totals: { requests: number; failures: number; achieved_rps: number } };
  commit: string;
}>;
