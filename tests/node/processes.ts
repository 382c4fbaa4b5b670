/** @module Child processes of node tests: free ports, and stopping a detached process group. */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** End a detached child's whole process group (npm → node → wrangler → workerd, or bash and its jobs). */
export async function stopGroup(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  if (!(await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))]))) signal("SIGKILL");
}

/**
 * Spawn `npm <args>` detached (its own process group, for stopGroup) and wait until it prints
 * `ready on http://127.0.0.1:<port>`; rejects with what it printed if it exits or times out first.
 */
export async function startUntilReady(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; port: number; timeoutMs: number }): Promise<{ child: ChildProcess; log: () => string }> {
  const child = spawn("npm", args, { cwd: options.cwd, env: options.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm ${args.join(" ")} was not ready within ${options.timeoutMs / 1000} s:\n${log}`)), options.timeoutMs);
    const watch = (chunk: Buffer) => {
      log += chunk;
      if (log.includes(`ready on http://127.0.0.1:${options.port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", watch);
    child.stderr!.on("data", watch);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`npm ${args.join(" ")} exited (${code}):\n${log}`));
    });
  });
  return { child, log: () => log };
}
