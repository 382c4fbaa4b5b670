// Progress of long work (load runs, cold starts, bench, the perf gate, soak, large publishes): a
// bar on stderr (cli-progress) while a person watches, nothing of it otherwise, and one summary
// line at the end in every mode. stderr, so a tool's stdout (JSON, tables) stays clean.
// "A person watches" = stderr is a terminal and CI is not set (CI=true in .ci/run); RON_PROGRESS=0
// turns the bar off too.
import cliProgress from "cli-progress";

/** Whether to draw bars on `stream`. */
export function progressWanted({ stream = process.stderr, env = process.env } = {}) {
  const ci = env.CI !== undefined && env.CI !== "" && env.CI !== "0" && env.CI.toLowerCase() !== "false";
  return stream.isTTY === true && !ci && env.RON_PROGRESS !== "0";
}

const QUIET_PHASE = Object.freeze({ update() {}, increment() {}, total: 0 });

/**
 * The progress of one tool's run, named `label` ("load mixed", "cold start").
 * - `phase(name, total, unit)` starts a bar for one stretch of work (ending the previous one) and
 *   returns `{ update(value, detail), increment(by, detail) }`;
 * - `log(line)` prints a line on stdout without tearing the bar;
 * - `done(summary)` ends the bar and writes `<label>: <summary> (<seconds> s)` to stderr.
 */
export function createProgress(label, { stream = process.stderr, env = process.env } = {}) {
  const wanted = progressWanted({ stream, env });
  const started = performance.now();
  /** @type {cliProgress.SingleBar | null} */
  let bar = null;
  const end = () => {
    bar?.stop();
    bar = null;
  };
  // a tool that exits mid-phase (an error, process.exit) leaves a clean line behind
  if (wanted) process.once("exit", end);
  return {
    enabled: wanted,
    phase(name, total, unit = "") {
      end();
      if (!wanted) return QUIET_PHASE;
      const current = new cliProgress.SingleBar(
        {
          stream,
          format: `${label}: ${name} [{bar}] {value}/{total}${unit ? ` ${unit}` : ""} {percentage}% ETA {eta_formatted} {detail}`,
          barsize: 20,
          fps: 5,
          etaBuffer: 20,
          // no terminal modes (hidden cursor, no wrapping) that a crash would leave behind: the
          // line is cut to the terminal's width instead
          hideCursor: false,
          linewrap: true,
          clearOnComplete: true,
          // the bar's own SIGINT handler would stop it, but not the work: leave signals to the tool
          gracefulExit: false,
        },
        cliProgress.Presets.shades_classic,
      );
      current.start(Math.max(1, total), 0, { detail: "" });
      bar = current;
      return {
        total,
        update: (value, detail = "") => current.update(Math.min(value, Math.max(1, total)), { detail }),
        increment: (by = 1, detail = "") => current.increment(by, { detail }),
      };
    },
    log(line) {
      if (bar) {
        stream.write("\r\x1b[2K");
        console.log(line);
        // cli-progress redraws only a changed line: forget the last one so the bar comes back now
        bar.lastDrawnString = "";
        bar.render();
      } else {
        console.log(line);
      }
    },
    done(summary) {
      end();
      stream.write(`${label}: ${summary} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
    },
  };
}

/** Calls `fn(elapsedSeconds)` every `ms` until the returned stop function is called (time-based bars). */
export function every(ms, fn) {
  const started = performance.now();
  const timer = setInterval(() => fn((performance.now() - started) / 1000), ms);
  timer.unref?.();
  return () => clearInterval(timer);
}
