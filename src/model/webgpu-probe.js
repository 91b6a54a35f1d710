// Run as a child process by gpu.ts: reports the WebGPU adapter Dawn finds, as one JSON line on
// stdout (null = none). A separate process keeps Dawn's and the Vulkan loader's own warnings out
// of the caller's stderr (gpu.ts shows them only when they explain a failure).
import { create } from "webgpu";

const adapter = await create([]).requestAdapter({ powerPreference: "high-performance" });
const info = adapter?.info;
const found = info
  ? { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description, isFallback: info.isFallbackAdapter === true }
  : null;
process.stdout.write(`${JSON.stringify(found)}\n`);
