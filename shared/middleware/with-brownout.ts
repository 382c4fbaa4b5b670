/**
 * @module Records every admitted request's outcome in the isolate's recent window, and refuses
 * writes with 503 BROWNOUT while the window says the service is failing (see admission/brownout).
 * Its own refusals are not recorded, so a brownout cannot keep itself alive.
 */
import { brownoutState, isRead } from "../admission/brownout";
import { recentOutcomes } from "../admission/recent-outcomes";
import { configOf, type Middleware } from "../context";
import { shed, toHttpError } from "../errors";

export function withBrownout(): Middleware {
  return (next) =>
    async function withBrownout(request, rc) {
      const config = configOf(rc);
      if (!isRead(request.method)) {
        const state = brownoutState(rc.service, config);
        if (state.active) throw shed(503, "BROWNOUT", `writes paused: ${state.why}; reads are still served`, Math.min(config.BROWNOUT_WINDOW_S * 1000, 5_000));
      }
      const started = performance.now();
      const window = recentOutcomes(rc.service);
      try {
        const response = await next(request, rc);
        window.record(response.status, (performance.now() - started) / 1000, false);
        return response;
      } catch (thrown) {
        const { error } = toHttpError(thrown);
        // a full mailbox topic is back-pressure on that topic, not the node shedding
        window.record(error.status, (performance.now() - started) / 1000, error.retryAfterMs !== undefined && !error.resourceLimit);
        throw thrown;
      }
    };
}
