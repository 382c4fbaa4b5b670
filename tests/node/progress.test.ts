/**
 * Progress of long work (scripts/progress.mjs): a bar on stderr only while a person watches (a
 * terminal, CI unset), never an escape code otherwise, and one summary line at the end in every
 * mode; stdout stays the tool's own output. Checked on the module with a terminal-like stream, and
 * on real tools: `npm run cold-start` piped and in a pseudo-terminal (util-linux `script`), and a
 * large `npm run publish`.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
// @ts-expect-error: plain JS module of the scripts
import { createProgress, progressWanted } from "../../scripts/progress.mjs";
// @ts-expect-error: plain JS module of the load harness
import { HARNESS_TOKEN, bundleWorker, micronodeOptions, serve } from "../../load/driver/targets.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const ESCAPE = /\x1b\[|\r/;
const SUMMARY = (label: string, text: string) => new RegExp(`^${label}: ${text} \\(\\d+\\.\\d s\\)$`);

/** A stream that records what is written; `tty` makes it look like a terminal to cli-progress. */
function recorder(tty: boolean) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  }) as Writable & { isTTY?: boolean; columns?: number };
  if (tty) Object.assign(stream, { isTTY: true, columns: 120 });
  return { stream, text: () => chunks.join("") };
}

/** A node process's exit code, stdout and stderr, with the environment given (CI removed unless set). */
function runNode(args: string[], env: Record<string, string | undefined>, timeout = 90_000) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!("CI" in env)) delete childEnv.CI;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, args, { cwd: ROOT, env: childEnv, timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/** The same, in a pseudo-terminal: `script` gives the command a terminal and copies what it drew to our stdout. */
function runInTerminal(command: string, env: Record<string, string | undefined>, timeout = 90_000) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, COLUMNS: "120" };
  if (!("CI" in env)) delete childEnv.CI;
  return new Promise<{ code: number; drawn: string }>((resolve) =>
    execFile("script", ["-qefc", command, "/dev/null"], { cwd: ROOT, env: childEnv, timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, drawn: stdout }),
    ),
  );
}

describe("the progress module", () => {
  it("draws a bar on a terminal, then clears it and prints one summary line", () => {
    const out = recorder(true);
    const progress = createProgress("demo", { stream: out.stream, env: {} });
    expect(progress.enabled).toBe(true);
    const phase = progress.phase("work", 4, "items");
    phase.increment(1, "first");
    phase.update(3, "third");
    // a line for stdout clears the bar's line, and the bar is drawn again under it
    const printed = vi.spyOn(console, "log").mockImplementation(() => {});
    const before = out.text().length;
    progress.log("a line of the tool's own output");
    expect(printed).toHaveBeenCalledWith("a line of the tool's own output");
    printed.mockRestore();
    expect(out.text().slice(before)).toMatch(/^\r\x1b\[2K[\s\S]*demo: work \[.*\] 3\/4 items/);
    progress.done("4 items, all fine");
    const text = out.text();
    expect(text).toMatch(ESCAPE);
    expect(text).toContain("demo: work [");
    expect(text).toMatch(/\d\/4 items/);
    // the last line is the summary, after the bar's line was cleared
    expect(text.split("\n").filter(Boolean).at(-1)!.replace(/^[\s\S]*\x1b\[2K/, "")).toMatch(SUMMARY("demo", "4 items, all fine"));
  });

  for (const [what, tty, env] of [
    ["stderr is not a terminal", false, {}],
    ["CI is set", true, { CI: "true" }],
    ["RON_PROGRESS=0", true, { RON_PROGRESS: "0" }],
  ] as const) {
    it(`is quiet when ${what}: no escape codes, only the summary line`, () => {
      const out = recorder(tty);
      const progress = createProgress("demo", { stream: out.stream, env });
      expect(progress.enabled).toBe(false);
      const phase = progress.phase("work", 4);
      phase.increment(2, "half");
      progress.done("done");
      expect(out.text()).not.toMatch(ESCAPE);
      expect(out.text().split("\n")).toEqual([expect.stringMatching(SUMMARY("demo", "done")), ""]);
    });
  }

  it("treats CI=false and CI=0 as not CI", () => {
    const tty = recorder(true).stream;
    expect(progressWanted({ stream: tty, env: { CI: "false" } })).toBe(true);
    expect(progressWanted({ stream: tty, env: { CI: "0" } })).toBe(true);
    expect(progressWanted({ stream: tty, env: { CI: "1" } })).toBe(false);
  });
});

describe("npm run cold-start", () => {
  it("piped: stdout is the JSON alone, stderr the one summary line and no escape codes", async () => {
    const { code, stdout, stderr } = await runNode(["load/cold-start.mjs", "--runs", "1"], {});
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ runs: 1, ready_ms: { median: expect.any(Number) } });
    expect(stderr).not.toMatch(ESCAPE);
    expect(stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(SUMMARY("cold start", "median ready \\d+ ms \\(min \\d+, max \\d+\\) over 1 runs, first request \\d+ ms"))]);
  });

  it("in a terminal: a bar of the runs, then the summary; with CI=true the terminal gets no bar", async () => {
    const watched = await runInTerminal("node load/cold-start.mjs --runs 1 > /dev/null", {});
    expect(watched.code).toBe(0);
    expect(watched.drawn).toContain("cold start: cold starts [");
    expect(watched.drawn).toMatch(/1\/1 runs 100%/);
    expect(watched.drawn).toMatch(/cold start: median ready \d+ ms/);
    const ci = await runInTerminal("node load/cold-start.mjs --runs 1 > /dev/null", { CI: "true" });
    expect(ci.code).toBe(0);
    expect(ci.drawn).not.toMatch(/\x1b\[/);
    expect(ci.drawn.trim()).toMatch(SUMMARY("cold start", "median ready .*"));
  });
});

describe("npm run publish of a large file", () => {
  let target: { url: string; mf: { dispose(): Promise<void> } };
  const file = join(tmpdir(), `ron-progress-large-${process.pid}.bin`);
  beforeAll(async () => {
    // one shard: the 6 MiB file is more than a default shard's share (64 MiB / 16)
    target = await serve(micronodeOptions(bundleWorker({ outDir: join(tmpdir(), `ron-progress-build-${process.pid}`) }), { MAX_BODY_BYTES: String(16 * 1024 * 1024), AMNESIA_MAX_BYTES: String(64 * 1024 * 1024), AMNESIA_SHARDS: "1" }));
    writeFileSync(file, Buffer.alloc(6 * 1024 * 1024, 7));
  });
  afterAll(async () => target?.mf.dispose());

  it("shows the upload's bar in a terminal, and piped prints only the JSON answer (stdout) and the summary (stderr)", async () => {
    const env = { RON_TOKEN: HARNESS_TOKEN };
    // this server takes 16 MiB bodies: a single PUT, as the flag says (the default sends files over 1 MiB in parts)
    const single = `--multipart-from ${16 * 1024 * 1024}`;
    const watched = await runInTerminal(`node scripts/publish.mjs ${file} --as big/one.bin --url ${target.url} ${single} > /dev/null`, env);
    expect(watched.code).toBe(0);
    expect(watched.drawn).toMatch(/publish: big\/one\.bin \[.*\] \d+\/24 chunks of 256 KiB/);
    expect(watched.drawn).toMatch(/publish: big\/one\.bin: 6\.0 MiB → 201/);

    const piped = await runNode(["scripts/publish.mjs", file, "--as", "big/two.bin", "--url", target.url, "--multipart-from", String(16 * 1024 * 1024)], env);
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ path: "big/two.bin", size: 6 * 1024 * 1024 });
    expect(piped.stderr).not.toMatch(ESCAPE);
    expect(piped.stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(SUMMARY("publish", "big/two\\.bin: 6\\.0 MiB → 201"))]);
    const served = await fetch(`${target.url}/edge/assets/big/one.bin`, { method: "HEAD" });
    expect(served.headers.get("content-length")).toBe(String(6 * 1024 * 1024));
  });

  it("a file over --multipart-from goes in parts, and the bar counts the server's parts", async () => {
    const watched = await runInTerminal(`node scripts/publish.mjs ${file} --as big/three.bin --url ${target.url} > /dev/null`, { RON_TOKEN: HARNESS_TOKEN });
    expect(watched.code).toBe(0);
    expect(watched.drawn).toMatch(/publish: big\/three\.bin \(multipart\) \[.*\] \d\/1 parts of 8\.0 MiB/);
    expect(watched.drawn).toMatch(/publish: big\/three\.bin: 6\.0 MiB in 1 parts → 201/);
  });
});
