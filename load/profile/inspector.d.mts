import type { CpuProfile } from "./analyse.mjs";
export function findWorkerTarget(port: number, name: string): Promise<{ id: string; url: string }>;
export function startCpuProfile(o: { port: number; worker?: string; seconds: number; samplingIntervalUs?: number }): Promise<{ target: string; done: Promise<CpuProfile> }>;
export function openHeapReader(o: { port: number; worker?: string }): Promise<{ usage(): Promise<{ usedSize: number | null; totalSize: number | null; collected: number | null } | null>; snapshot(): Promise<string>; close(): void }>;
