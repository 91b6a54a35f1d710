// `npm install` builds trirl's native kernels (binding.gyp) with the node-gyp that npm bundles.
// Optional: without a C++ toolchain the build fails, this says so, and the wasm kernels are used.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.join(import.meta.dirname, "..");
const nodeGyp = process.env.npm_config_node_gyp;
const args = nodeGyp ? [nodeGyp, "rebuild"] : [];
const result = nodeGyp && fs.existsSync(nodeGyp)
  ? spawnSync(process.execPath, args, { cwd: root, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" })
  : { status: null, stderr: "npm's node-gyp was not found (run this through npm install)" };
if (result.status === 0) {
  process.stderr.write("trirl: native kernels built (build/Release/trirl_native.node)\n");
} else {
  const tail = String(result.stderr ?? "").trim().split("\n").slice(-3).join("\n");
  process.stderr.write(`trirl: native kernels not built, the wasm kernels are used (slower on CPU)\n${tail}\n` +
    "---> HINT: needs python3, make and a C++17 compiler; then run npm rebuild\n");
}
