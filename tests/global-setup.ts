/**
 * Runs in Node before the workerd tests: a stand-in Sentry ingest on 127.0.0.1 that records the
 * envelopes it receives, so tests can prove what is (and is not) sent. Never leaves loopback.
 */
import { createServer } from "node:http";
import type { TestProject } from "vitest/node";

export default async function setup(project: TestProject) {
  const received: { path: string; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/__received") {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(received));
        return;
      }
      received.push({ path: req.url ?? "", body: Buffer.concat(chunks).toString("utf8") });
      res.setHeader("content-type", "application/json");
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  project.provide("sentryIngestPort", typeof address === "object" && address ? address.port : 0);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

declare module "vitest" {
  export interface ProvidedContext {
    sentryIngestPort: number;
  }
}
