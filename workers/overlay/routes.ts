/** @module The overlay's HTTP routes: the WebSocket session endpoint. */
import { createRouter } from "../../shared/middleware/router";
import { openSession } from "./session-upgrade";

export const overlayRoutes = createRouter({
  "/overlay": { GET: openSession },
});
