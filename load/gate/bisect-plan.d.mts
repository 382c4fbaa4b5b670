export function spreadPoints(history: string[], n: number): string[];
export function segmentsToSplit(history: string[], measured: Set<string> | Map<string, unknown>, metric: (commit: string) => number | null, threshold: number): [string, string, string][];
