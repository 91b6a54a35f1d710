/**
 * Human progress on stderr: a live bar on a terminal (redrawn in place), one plain line per
 * step or finished phase otherwise (CI logs). Machine-readable output stays on stdout.
 */
import type { RunEvent } from "../rl/run.ts";

export type Progress = { event(e: RunEvent): void; line(text: string): void };

function bar(done: number, total: number, width = 24): string {
  const filled = Math.round((width * done) / Math.max(total, 1));
  return `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
}

function stepLine(e: Extract<RunEvent, { kind: "step" }>): string {
  const m = e.metrics;
  const d = m.decision_accuracy;
  const acc = (x: number | null) => (x === null ? "  -" : `${Math.round(100 * x)}`.padStart(3));
  return `step ${String(m.step + 1).padStart(3)}/${e.steps} ${bar(m.step + 1, e.steps, 16)} reward ${m.reward_mean.toFixed(3)} ±${m.reward_std.toFixed(2)} ` +
    `acc b/m/s ${acc(d.benign)}/${acc(d.malicious)}/${acc(d.sensitive)} kl ${m.kl.toFixed(4)} ` +
    `| gen ${m.seconds.generate.toFixed(1)}s upd ${m.seconds.update.toFixed(1)}s`;
}

export function createProgress(out: NodeJS.WriteStream): Progress {
  const isTty = out.isTTY === true;
  let isLive = false;
  const finishLive = () => {
    if (isLive) out.write("\n");
    isLive = false;
  };
  const line = (text: string) => {
    finishLive();
    out.write(`${text}\n`);
  };
  return {
    line,
    event(e) {
      if (e.kind === "info") return line(e.message);
      if (e.kind === "step") return line(stepLine(e));
      const text = `${e.phase} ${bar(e.done, e.total)} ${e.done}/${e.total}${e.detail ? ` ${e.detail}` : ""}`;
      if (isTty) {
        out.write(`\r${text}\x1b[K`);
        isLive = e.done < e.total;
        if (!isLive) out.write("\n");
      } else if (e.done === e.total || e.done % Math.max(1, Math.round(e.total / 10)) === 0) out.write(`${text}\n`);
    },
  };
}
