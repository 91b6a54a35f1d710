/** Backend choice without a GPU: what counts as a real GPU, and the error that says what is missing. */
import { describe, expect, it } from "vitest";
import { describeAdapter, isRealGpu, noAdapterError, type GpuAdapter } from "../../src/model/gpu.ts";

const adapter = (a: Partial<GpuAdapter>): GpuAdapter => ({ vendor: "", architecture: "", device: "", description: "", isFallback: false, ...a });

describe("isRealGpu", () => {
  it("counts a hardware adapter and not the software ones", () => {
    expect(isRealGpu(adapter({ vendor: "nvidia", architecture: "ampere", description: "NVIDIA H100" }))).toBe(true);
    expect(isRealGpu(adapter({ vendor: "google", architecture: "swiftshader", isFallback: true }))).toBe(false);
    // a software rasteriser that does not flag itself as the fallback adapter
    expect(isRealGpu(adapter({ vendor: "mesa", architecture: "", description: "llvmpipe (LLVM 15.0.6, 256 bits)" }))).toBe(false);
    expect(describeAdapter(adapter({ vendor: "google", architecture: "swiftshader", description: "SwiftShader driver 5.0.0", isFallback: true })))
      .toBe("google swiftshader (SwiftShader driver 5.0.0), a software adapter");
  });
});

describe("noAdapterError", () => {
  it("names the missing driver, the environment variable and how to check", () => {
    const message = noAdapterError({ log: "Warning: vkCreateInstance: Found no drivers!" }).message;
    expect(message).toMatch(/no WebGPU adapter found/);
    expect(message).toMatch(/nvidia_icd\.json/);
    expect(message).toMatch(/\/usr\/share\/vulkan\/icd\.d/);
    expect(message).toMatch(/VK_ICD_FILENAMES/);
    expect(message).toMatch(/vulkaninfo --summary/);
    expect(message).toMatch(/Found no drivers!/); // Dawn's own words are passed on
  });
  it("says how to install the package when it is missing", () => {
    expect(noAdapterError({ missingPackage: true, log: "" }).message).toMatch(/optional package webgpu[^]*npm install/);
  });
});
