// A pool worker thread (pool.ts): runs the TypeScript worker directly, as bin/trirl.js runs the CLI.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
