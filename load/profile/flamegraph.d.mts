import type { Analysis } from "./analyse.mjs";
export function renderFlameGraph(analysis: Analysis, labels: { title: string; subtitle?: string }): string;
