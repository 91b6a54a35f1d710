/**
 * The webgpu tests' adapter. With no VK_ICD_FILENAMES set, the tests use SwiftShader's Vulkan
 * driver from Debian's chromium package (.ci/run installs it), so every CI run checks the GPU code
 * path on a software GPU; set VK_ICD_FILENAMES to your GPU's ICD to run them there instead.
 * `webgpuSkipReason` is the one-line reason the tests skip when no adapter exists.
 */
import fs from "node:fs";
import { probeGpu } from "../../src/model/gpu.ts";

/** A webgpu test's time limit: SwiftShader is slow (a few minutes per file alone on 2 cores), and slower still on a shared box. */
export const SOFTWARE_GPU_MS = 900_000;

export const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

if (process.env.VK_ICD_FILENAMES === undefined && fs.existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;

const probe = await probeGpu();

/** undefined when a WebGPU adapter exists; else why the webgpu tests skip. */
export const webgpuSkipReason: string | undefined = probe.adapter
  ? undefined
  : probe.missingPackage
    ? "webgpu tests skipped: the webgpu package is not installed (npm install)"
    : `webgpu tests skipped: no WebGPU adapter (no ${SWIFTSHADER_ICD}: apt-get install chromium libvulkan1)`;

if (webgpuSkipReason) console.warn(webgpuSkipReason);
