/**
 * The README's "Try it" commands, run with bash exactly as written against a service started the
 * way the README says (`npm start`, on a free port given as PORT), so the README cannot drift from
 * what the service and the npm scripts answer. Every command needs a check below and every check
 * a command: a command added to the README without one, or changed so no check matches it, fails.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { freePort, startUntilReady, stopGroup } from "./processes";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { blake3 } from "@noble/hashes/blake3.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const readmeText = readFileSync(join(root, "README.md"), "utf8");
const readmeBytes = readFileSync(join(root, "README.md"));
const address = (bytes: Uint8Array) => `b3:${bytesToHex(blake3(bytes))}`;

/** The shell blocks of the "Try it" section, as logical commands (continuation lines joined, comment lines dropped). */
function tryItCommands(markdown: string): string[] {
  const section = /^## Try it\n([\s\S]*?)(?=^## )/m.exec(markdown)?.[1];
  if (!section) throw new Error('README has no "## Try it" section');
  const commands: string[] = [];
  for (const block of section.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    let pending = "";
    for (const line of block[1]!.split("\n")) {
      if (!pending && (line.trim() === "" || line.trimStart().startsWith("#"))) continue;
      pending += (pending ? "\n" : "") + line;
      if (!line.endsWith("\\")) {
        commands.push(pending);
        pending = "";
      }
    }
  }
  return commands;
}

/** Environment assignments the README asks `npm start` to be given: "(start with NAME=value npm start)". */
function startEnvironment(markdown: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of markdown.matchAll(/start with ((?:[A-Z][A-Z0-9_]*=\S+ )+)npm start/g)) {
    for (const pair of m[1]!.trim().split(/\s+/)) {
      const [name, value] = pair.split("=") as [string, string];
      env[name] = value;
    }
  }
  return env;
}

/** The environment of the README's reader: no RON_URL or RON_TOKEN of ours, the service's port as PORT. */
function readerEnv(port: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra, PORT: String(port) };
  delete env.RON_URL;
  delete env.RON_TOKEN;
  return env;
}

interface Step {
  command: string;
  out: string;
  err: string;
  rc: number;
}

/** Run the commands in one bash, in order (variables carry over), recording each one's stdout, stderr and exit status. */
async function runAsWritten(commands: string[], port: number, timeoutMs: number): Promise<Step[]> {
  const mark = (i: number) => `printf '\\n@@ron-step ${i}\\n'; printf '\\n@@ron-step ${i}\\n' >&2`;
  const script = commands.map((command, i) => `${mark(i)}\n${command}\nprintf '\\n@@ron-rc %d\\n' $?`).join("\n") + "\n";
  // the commands' temporary files (mktemp) go to a directory of this run, removed after it
  const scratch = mkdtempSync(join(tmpdir(), "ron-try-it-"));
  const bash = spawn("bash", ["-c", script], { cwd: root, env: { ...readerEnv(port), TMPDIR: scratch }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  bash.stdout!.on("data", (chunk) => (stdout += chunk));
  bash.stderr!.on("data", (chunk) => (stderr += chunk));
  const timer = setTimeout(() => void stopGroup(bash), timeoutMs);
  try {
    await new Promise((resolve) => bash.once("close", resolve));
  } finally {
    clearTimeout(timer);
    await stopGroup(bash);
    scratchFiles = readdirSync(scratch);
    rmSync(scratch, { recursive: true, force: true });
  }
  const pieces = (text: string) => text.split(/\n@@ron-step \d+\n/).slice(1);
  const outs = pieces(stdout);
  const errs = pieces(stderr);
  return commands.map((command, i) => {
    const [out = "", rc] = (outs[i] ?? "").split(/\n@@ron-rc (\d+)\n/);
    return { command, out, err: errs[i] ?? "", rc: rc === undefined ? -1 : Number(rc) };
  });
}

const json = (text: string) => JSON.parse(text.trim());
/** The last line: `npm run` without -s prints its own banner lines first. */
const lastJson = (text: string) => JSON.parse(text.trim().split("\n").at(-1)!);
const quiet = (step: Step) => expect(step.out).toBe("");

/** What each command answers, as the README says; matched to the command by a pattern. */
const checks: Array<{ command: RegExp; check: (step: Step, seen: Map<string, unknown>) => void }> = [
  { command: /^S=http:\/\/127\.0\.0\.1:\$\{PORT:-8787\}/, check: quiet },
  { command: /^AUTH="Authorization: Bearer \$\(cat \.ron\/dev-token\)"/, check: quiet },
  {
    command: /^curl -s -X POST --data-binary @README\.md .*\$S\/put$/,
    check: (step) => expect(json(step.out)).toEqual({ address: address(readmeBytes), size: readmeBytes.length, corr_id: expect.any(String) }),
  },
  {
    command: /^gzip -c README\.md \| curl .*Content-Encoding: gzip.*\$S\/put$/,
    check: (step) => expect(json(step.out)).toMatchObject({ address: address(readmeBytes), size: readmeBytes.length }),
  },
  {
    command: /^curl -s -X POST .*application\/json' \\\n.*payload.*\$S\/put$/,
    check: (step) => expect(json(step.out)).toMatchObject({ address: address(new TextEncoder().encode("hello")), size: 5 }),
  },
  { command: /^BIG=\$\(mktemp\); head -c 3000000 \/dev\/urandom > \$BIG$/, check: quiet },
  { command: /^B=\$\(npm run -s b3 -- \$BIG\) +# .*$/, check: quiet },
  {
    command: /^curl -s -T \$BIG -H "\$AUTH" \$S\/o\/\$B +# .*$/,
    check: (step) => expect(json(step.out)).toEqual({ address: expect.stringMatching(/^b3:[0-9a-f]{64}$/), size: 3_000_000, corr_id: expect.any(String) }),
  },
  {
    command: /^A=\$\(npm run -s b3 -- README\.md\)/,
    check: (step) => quiet(step),
  },
  { command: /^curl -s \$S\/o\/\$A$/, check: (step) => expect(step.out).toBe(readmeText) },
  { command: /^curl -s -H 'Range: bytes=0-99' \$S\/o\/\$A$/, check: (step) => expect(step.out).toBe(readmeBytes.subarray(0, 100).toString()) },
  { command: /^curl -si -H "If-None-Match: .*\| head -1/, check: (step) => expect(step.out).toMatch(/^HTTP\/1\.1 304 /) },
  {
    command: /^curl -sI \$S\/o\/\$A$/,
    check: (step) => {
      expect(step.out).toMatch(/^HTTP\/1\.1 200 /);
      expect(step.out).toMatch(new RegExp(`^ETag: "${address(readmeBytes)}"\\r?$`, "mi"));
      expect(step.out).toMatch(new RegExp(`^Content-Length: ${readmeBytes.length}\\r?$`, "mi"));
    },
  },
  { command: /^BODY='\{"zen":"hello"\}'; SIG=/, check: quiet },
  {
    command: /^curl -s -X POST -H "X-Hub-Signature-256: .*\$S\/webhooks\/github$/,
    check: (step) => expect(json(step.out)).toMatchObject({ accepted: true, duplicate: false }),
  },
  {
    command: /\$S\/mailbox\/recv$/,
    check: (step) => {
      const { messages } = json(step.out);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({ topic: "webhooks.github", idem_key: "github:1" });
      expect(Buffer.from(messages[0].payload_b64, "base64").toString()).toBe('{"zen":"hello"}');
    },
  },
  { command: /\$S\/audit\/verify$/, check: (step) => expect(json(step.out)).toMatchObject({ ok: true }) },
  {
    command: /^curl -s -X PUT --data-binary @README\.md .*\$S\/edge\/assets\/docs\/readme\.md$/,
    check: (step) => expect(json(step.out)).toMatchObject({ path: "docs/readme.md", address: address(readmeBytes), size: readmeBytes.length }),
  },
  { command: /^curl -s -H 'Range: bytes=0-15' \$S\/edge\/assets\/docs\/readme\.md$/, check: (step) => expect(step.out).toBe(readmeBytes.subarray(0, 16).toString()) },
  {
    command: /^npm run overlay -- hello\b/,
    check: (step) => expect(lastJson(step.out)).toMatchObject({ session: expect.stringMatching(/^[0-9a-f]{64}$/), version: 1, pq: "hybrid", limits: expect.any(Object) }),
  },
  {
    command: /^npm run overlay -- fetch \$A\b/,
    check: (step) => expect(lastJson(step.out)).toEqual({ address: address(readmeBytes), size: readmeBytes.length, verified: true }),
  },
  { command: /^SUB=\$\(mktemp\)$/, check: quiet },
  { command: /^npm run -s overlay -- sub news --count 1 > \$SUB &/, check: quiet },
  { command: /^until grep -q subscribed \$SUB; do sleep 0\.2; done$/, check: quiet },
  {
    command: /^npm run -s overlay -- pub news 'hello gossip'/,
    check: (step, seen) => {
      const published = json(step.out);
      expect(published).toEqual({ id: expect.any(String), duplicate: false, subscribers: 1 });
      seen.set("published", published.id);
    },
  },
  {
    command: /^wait; cat \$SUB\b/,
    check: (step, seen) =>
      expect(step.out.trim().split("\n").map((line) => JSON.parse(line))).toEqual([{ subscribed: "news" }, { topic: "news", id: seen.get("published"), data: "hello gossip" }]),
  },
  { command: /^curl -s \$S\/healthz$/, check: (step) => expect(json(step.out)).toEqual({ ok: true }) },
  { command: /^curl -s \$S\/readyz$/, check: (step) => expect(json(step.out)).toMatchObject({ ready: true }) },
  {
    command: /^curl -s \$S\/version$/,
    check: (step) => expect(json(step.out)).toMatchObject({ version: JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version, features: expect.arrayContaining(["overlay", "edge"]) }),
  },
  { command: /^curl -s \$S\/openapi\.json \| head -c 200 +# .*$/, check: (step) => expect(step.out).toMatch(/^\{"openapi":"3\.1\.\d+"/) },
  {
    command: /^curl -s -H "\$AUTH" \$S\/metrics$/,
    // the writes above answered as the README's comments say: 201 for a new object, 200 for one already stored
    check: (step) => {
      expect(step.out).toMatch(/^http_requests_total\{[^}]*route="\/put",method="POST",status="201"[^}]*\} 2$/m);
      expect(step.out).toMatch(/^http_requests_total\{[^}]*route="\/put",method="POST",status="200"[^}]*\} 1$/m);
      expect(step.out).toMatch(/^http_requests_total\{[^}]*route="\/edge\/assets\/\*",method="PUT",status="201"[^}]*\} 1$/m);
    },
  },
  { command: /^npm run -s cap -- mint --op put --ttl 3600$/, check: (step) => expect(step.out.trim()).toMatch(/^[A-Za-z0-9_-]{40,}$/) },
  { command: /^npm run -s cap -- attenuate "\$\(cat \.ron\/dev-token\)" --op edge\.put/, check: (step) => expect(step.out.trim()).toMatch(/^[A-Za-z0-9_-]{40,}$/) },
  {
    command: /^npm run -s cap -- inspect "\$\(cat \.ron\/dev-token\)"$/,
    check: (step) => expect(json(step.out)).toMatchObject({ caveats: [], allows: { ops: expect.arrayContaining(["put", "edge.put"]) } }),
  },
];

const commands = tryItCommands(readmeText);
let service: ChildProcess | undefined;
let port = 0;
let steps: Step[] = [];
/** What the commands left in their temporary directory (the gossip example's subscriber log). */
let scratchFiles: string[] = [];

beforeAll(async () => {
  port = await freePort();
  ({ child: service } = await startUntilReady(["start"], { cwd: root, env: readerEnv(port, startEnvironment(readmeText)), port, timeoutMs: 60_000 }));
  steps = await runAsWritten(commands, port, 120_000);
}, 200_000);

afterAll(async () => stopGroup(service), 20_000);

describe("README Try it", () => {
  it("is found: shell commands, and a start environment for the webhook example", () => {
    expect(commands.length).toBeGreaterThan(20);
    expect(startEnvironment(readmeText)).toEqual({ GITHUB_WEBHOOK_SECRET: "devsecret123" });
  });

  it("has exactly one check for every command, and no check without a command", () => {
    const unmatched = commands.filter((command) => checks.filter((c) => c.command.test(command)).length !== 1);
    expect(unmatched).toEqual([]);
    const unused = checks.filter((c) => !commands.some((command) => c.command.test(command))).map((c) => String(c.command));
    expect(unused).toEqual([]);
  });

  it("keeps its temporary files where the run can remove them", () => {
    expect(scratchFiles).toHaveLength(2); // the big object, and the gossip example's subscriber log
  });

  it("every command runs as written (exit 0) and answers as the README says", () => {
    const seen = new Map<string, unknown>();
    for (const step of steps) {
      const context = `${step.command}\n--- stdout\n${step.out}\n--- stderr\n${step.err}`;
      expect(step.rc, context).toBe(0);
      const check = checks.find((c) => c.command.test(step.command));
      try {
        check!.check(step, seen);
      } catch (error) {
        throw new Error(`${context}\n--- check\n${(error as Error).message}`);
      }
    }
  });
});
