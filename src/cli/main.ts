/**
 * The `trirl` command line: argv → typed options → one library call → JSON on stdout.
 * The only place that exits the process or decides exit codes. Each command group lives in
 * its own file and registers itself here.
 */
import { Command } from "commander";
import { registerModelCommands } from "./model.ts";
import { registerScenarioCommands } from "./scenarios.ts";
import { registerScoreCommands } from "./score.ts";
import { registerTrainCommands } from "./train.ts";
import { registerRunCommands } from "./runs.ts";
import { registerReportCommands } from "./report.ts";
import { registerBenchCommands } from "./bench.ts";

const program = new Command("trirl")
  .description("Safety-align tool-using Qwen agents with tri-modal RL rewards (LoRA + GRPO, TensorFlow.js)")
  .showHelpAfterError()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

// Each register function adds its subcommands to `program`.
const registrations: ((p: Command) => void)[] = [
  registerModelCommands, registerTrainCommands, registerRunCommands, registerScoreCommands, registerScenarioCommands, registerReportCommands, registerBenchCommands,
];
for (const register of registrations) register(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`trirl: ${message}\n`);
  process.exitCode = 1;
});
