/**
 * @module The one logger: JSON lines with `ts`, `level`, `msg`, `service`, `corr_id`, `route`
 * and a few scalar fields, filtered by `LOG_LEVEL` (docs/CONFIG.md). Fields are scalars only,
 * so bytes cannot be logged by accident, and fields named like secrets or bodies are
 * redacted: a log line never carries a payload or a token.
 */
import { loadConfig, type ConfigEnv, type ConfigResult } from "./config";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogValue = string | number | boolean | null | undefined;
export type LogFields = Record<string, LogValue>;

/** Who is logging: a RequestContext fits; a Durable Object passes its env and a service name. */
export interface LogScope {
  readonly service?: string;
  readonly corrId?: string;
  readonly route?: string;
  readonly configResult?: ConfigResult;
  readonly env?: ConfigEnv;
}

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const DEFAULT_LEVEL: LogLevel = "info";
/** Field names whose values are never written (a body, a token, a key). */
const SECRET_FIELD = /payload|body|token|authorization|cookie|secret|password|signature|key$/i;
/** Long values (an error stack) are cut here, so one line stays one readable line. */
const MAX_VALUE_CHARS = 2_000;
const RESERVED = new Set(["ts", "level", "msg", "service", "corr_id", "route"]);

function thresholdOf(scope: LogScope): LogLevel {
  const result = scope.configResult ?? (scope.env ? loadConfig(scope.env) : undefined);
  return result?.ok ? result.config.LOG_LEVEL : DEFAULT_LEVEL;
}

/** Whether a line at `level` would be written (check before building costly fields). */
export function logEnabled(scope: LogScope, level: LogLevel): boolean {
  return RANK[level] >= RANK[thresholdOf(scope)];
}

function write(level: LogLevel, scope: LogScope, msg: string, fields?: LogFields): void {
  if (!logEnabled(scope, level)) return;
  const line: Record<string, LogValue> = { ts: new Date().toISOString(), level, msg };
  if (scope.service) line.service = scope.service;
  if (scope.corrId) line.corr_id = scope.corrId;
  if (scope.route) line.route = scope.route;
  if (fields) {
    for (const [name, value] of Object.entries(fields)) {
      if (value === undefined || RESERVED.has(name)) continue;
      line[name] = SECRET_FIELD.test(name) ? "[redacted]" : typeof value === "string" && value.length > MAX_VALUE_CHARS ? `${value.slice(0, MAX_VALUE_CHARS)}…` : value;
    }
  }
  const text = JSON.stringify(line);
  if (level === "error") console.error(text);
  else if (level === "warn") console.warn(text);
  else console.log(text);
}

/** A thrown value as a log field: its stack (or message), never its properties. */
export const errorText = (thrown: unknown): string => String((thrown as Error)?.stack ?? thrown);

export const log = {
  debug: (scope: LogScope, msg: string, fields?: LogFields) => write("debug", scope, msg, fields),
  info: (scope: LogScope, msg: string, fields?: LogFields) => write("info", scope, msg, fields),
  warn: (scope: LogScope, msg: string, fields?: LogFields) => write("warn", scope, msg, fields),
  error: (scope: LogScope, msg: string, fields?: LogFields) => write("error", scope, msg, fields),
};
