export interface CallFrame {
  functionName: string;
  scriptId?: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; hitCount?: number; children?: number[] }>;
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}
export type CodeKind = "project" | "dependency" | "runtime" | "wasm" | "gc" | "program" | "idle" | "other";
export interface Frame {
  name: string;
  location: string;
  kind: CodeKind;
  key: string;
}
export interface MergedNode {
  frame: Frame;
  self: number;
  total: number;
  children: Map<string, MergedNode>;
}
export interface FunctionRow {
  name: string;
  location: string;
  kind: CodeKind;
  self: number;
  total: number;
  /** for built-ins and WASM: the project/dependency function that called it most (share of its self samples) */
  mainCaller: { key: string; share: number } | null;
}
export interface Analysis {
  tree: MergedNode;
  busySamples: number;
  idleSamples: number;
  samples: number;
  intervalUs: number;
  durationMs: number;
  functions: FunctionRow[];
  files: Array<{ file: string; self: number }>;
  kinds: Array<{ kind: CodeKind; self: number }>;
}
export interface Locator {
  source(url: string, line: number, column: number): string | null;
  wasmName: string | null;
}
export function bundleLocator(bundlePath: string, root: string): Locator;
export function analyseProfile(profile: CpuProfile, options?: { locator?: Locator }): Analysis;
export function renderTopTable(analysis: Analysis, options?: { top?: number; header?: string[] }): string;
