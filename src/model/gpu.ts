/**
 * Finding a WebGPU adapter (Dawn, from the `webgpu` npm package) before committing to the webgpu
 * backend: which adapter there is, whether it is a real GPU, and — when there is none — an error
 * that says what is missing and how to check. The probe runs in a child process
 * (webgpu-probe.js), so on a machine without a GPU Dawn's and the Vulkan loader's warnings do not
 * reach the user unless they explain a failure. Nothing here reads the environment: the child
 * inherits it (VK_ICD_FILENAMES included), and which ICD to use is the caller's business.
 */
import { execFile } from "node:child_process";
import path from "node:path";

export type GpuAdapter = { vendor: string; architecture: string; device: string; description: string; isFallback: boolean };

/** What the probe saw: the adapter, or why there is none (`missingPackage`: `webgpu` is not installed). */
export type GpuProbe = { adapter?: GpuAdapter; missingPackage?: boolean; log: string };

const PROBE = path.join(import.meta.dirname, "webgpu-probe.js");
const SOFTWARE = /swiftshader|llvmpipe|lavapipe|software|\bcpu\b/i;

let probed: Promise<GpuProbe> | undefined;

/** Probes once per process; `log` is the child's stderr (Dawn's warnings). */
export function probeGpu(): Promise<GpuProbe> {
  probed ??= new Promise((resolve) => {
    execFile(process.execPath, [PROBE], { encoding: "utf8", timeout: 60_000 }, (error, stdout, stderr) => {
      const log = stderr.split("\n").filter((l) => l.trim() && !/XDG_RUNTIME_DIR/.test(l)).join("\n");
      if (error) return resolve({ missingPackage: /ERR_MODULE_NOT_FOUND|Cannot find (package|module) 'webgpu'/.test(stderr), log: log || error.message });
      const adapter = JSON.parse(stdout.trim().split("\n").at(-1) ?? "null") as GpuAdapter | null;
      resolve(adapter ? { adapter, log } : { log });
    });
  });
  return probed;
}

/** A hardware GPU: not Dawn's fallback adapter and not a known software rasteriser (SwiftShader, llvmpipe). */
export function isRealGpu(a: GpuAdapter): boolean {
  return !a.isFallback && !SOFTWARE.test(`${a.vendor} ${a.architecture} ${a.description}`);
}

export function describeAdapter(a: GpuAdapter): string {
  const name = [a.vendor, a.architecture].filter(Boolean).join(" ") || "unknown adapter";
  return `${name}${a.description ? ` (${a.description})` : ""}${isRealGpu(a) ? "" : ", a software adapter"}`;
}

/** The error for `--backend webgpu` when the probe found no adapter. */
export function noAdapterError(probe: GpuProbe): Error {
  if (probe.missingPackage)
    return new Error('backend "webgpu" needs the optional package webgpu (Dawn), which is not installed\n---> HINT: npm install (it is in optionalDependencies), or npm install webgpu@0.6.2');
  const said = probe.log ? `\nDawn / the Vulkan loader said:\n  ${probe.log.split("\n").slice(0, 8).join("\n  ")}` : "";
  return new Error([
    `backend "webgpu": no WebGPU adapter found (Dawn uses Vulkan on Linux, Metal on macOS, D3D12 on Windows)${said}`,
    "---> HINT: on Linux the GPU vendor's Vulkan driver must be installed and visible: its ICD file (NVIDIA: nvidia_icd.json, from the",
    "    driver package, under /usr/share/vulkan/icd.d or /etc/vulkan/icd.d; in a container, with the NVIDIA container toolkit's",
    "    graphics capability) and the loader libvulkan.so.1 (Debian/Ubuntu: apt-get install libvulkan1). VK_ICD_FILENAMES, when set,",
    "    must name that ICD file. Check with `vulkaninfo --summary` (package vulkan-tools): it must list your GPU.",
    "    No GPU? --backend wasm; or a software GPU (slow, for tests): apt-get install chromium and",
    "    VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json.",
  ].join("\n"));
}
