/** safetensors reader/writer: each dtype against hand-encoded bytes, shards, and corrupt files. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decode, encodeBf16, openCheckpoint, openSafetensors, writeSafetensors } from "../../src/model/safetensors.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "trirl-st-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Builds a safetensors file by hand: header JSON + raw bytes. */
function rawFile(name: string, header: object, data: Uint8Array): string {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const file = path.join(tmp, name);
  fs.writeFileSync(file, Buffer.concat([len, json, data]));
  return file;
}

describe("decode", () => {
  it("BF16: the top 16 bits of float32", () => {
    // 1.0 = 0x3F80, -2.0 = 0xC000, 0.15625 = 0x3E20
    expect([...decode(new Uint8Array([0x80, 0x3f, 0x00, 0xc0, 0x20, 0x3e]), "BF16")]).toEqual([1, -2, 0.15625]);
  });
  it("F16: normal, subnormal, infinity", () => {
    // 1.0 = 0x3C00, -0.5 = 0xB800, smallest subnormal 0x0001 = 2^-24, +inf = 0x7C00
    const bytes = new Uint8Array([0x00, 0x3c, 0x00, 0xb8, 0x01, 0x00, 0x00, 0x7c]);
    expect([...decode(bytes, "F16")]).toEqual([1, -0.5, 2 ** -24, Infinity]);
  });
  it("F32: little endian", () => {
    expect([...decode(new Uint8Array(new Float32Array([3.5, -1e-3]).buffer), "F32")]).toEqual([3.5, Math.fround(-1e-3)]);
  });
  it("BF16 encode rounds to nearest even and round-trips exactly representable values", () => {
    const x = Float32Array.from([1, -2, 0.15625, 1 + 2 ** -8, 1 + 3 * 2 ** -8]);
    const back = decode(new Uint8Array(encodeBf16(x).buffer), "BF16");
    // 1 + 2^-8 is a tie between 1 and 1 + 2^-7 → even (1); 1 + 3·2^-8 → 1 + 2^-6 (even)
    expect([...back]).toEqual([1, -2, 0.15625, 1, 1 + 2 ** -6]);
  });
});

describe("openSafetensors", () => {
  it("reads each dtype with its shape", () => {
    const f32 = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
    const bf16 = new Uint8Array([0x80, 0x3f, 0x00, 0x40]); // 1, 2
    const f16 = new Uint8Array([0x00, 0x3c]); // 1
    const file = rawFile("mixed.safetensors", {
      a: { dtype: "F32", shape: [2, 3], data_offsets: [0, 24] },
      b: { dtype: "BF16", shape: [2], data_offsets: [24, 28] },
      c: { dtype: "F16", shape: [1, 1], data_offsets: [28, 30] },
      __metadata__: { format: "pt" },
    }, new Uint8Array([...f32, ...bf16, ...f16]));
    const st = openSafetensors(file);
    expect(st.entries.get("a")?.shape).toEqual([2, 3]);
    expect([...st.read("a")]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...st.read("b")]).toEqual([1, 2]);
    expect([...st.read("c")]).toEqual([1]);
    expect(st.metadata).toEqual({ format: "pt" });
    st.close();
  });

  it("writer output reads back (F32 exact, BF16 rounded)", () => {
    const file = path.join(tmp, "written.safetensors");
    const data = Float32Array.from([0.1, -0.2, 3]);
    writeSafetensors(file, [{ name: "z", shape: [3], data }, { name: "y", shape: [1, 3], data, dtype: "BF16" }]);
    const st = openSafetensors(file);
    expect([...st.read("z")]).toEqual([...data]);
    expect([...st.read("y")]).toEqual([...decode(new Uint8Array(encodeBf16(data).buffer), "BF16")]);
    st.close();
  });

  const corrupt: [string, () => string, RegExp][] = [
    ["a file shorter than the length prefix", () => { const f = path.join(tmp, "tiny.safetensors"); fs.writeFileSync(f, Buffer.alloc(3)); return f; }, /tiny.safetensors: truncated/],
    ["a header length beyond the file", () => { const f = path.join(tmp, "long.safetensors"); const b = Buffer.alloc(16); b.writeBigUInt64LE(1000n); fs.writeFileSync(f, b); return f; }, /long.safetensors: header length 1000 exceeds/],
    ["an unknown dtype", () => rawFile("dtype.safetensors", { w: { dtype: "I8", shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), /tensor "w": unsupported dtype "I8"/],
    ["offsets that disagree with the shape", () => rawFile("lie.safetensors", { w: { dtype: "F32", shape: [4], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor "w": data_offsets \[0, 8\] hold 8 bytes but F32\[4\] needs 16/],
    ["data past the end (truncated)", () => rawFile("cut.safetensors", { w: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)), /cut.safetensors: tensor "w": data ends at byte 16 but the file holds only 8/],
    ["overlapping tensors", () => rawFile("overlap.safetensors", { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)), /"a" and "b" overlap/],
    ["a header that is not JSON", () => { const f = path.join(tmp, "json.safetensors"); const b = Buffer.alloc(12); b.writeBigUInt64LE(4n); b.write("{{{{", 8); fs.writeFileSync(f, b); return f; }, /json.safetensors: header is not valid JSON/],
  ];
  it.each(corrupt)("rejects %s with a message naming the file and tensor", (_, make, message) => {
    const file = make();
    expect(() => openSafetensors(file)).toThrow(message);
  });
});

describe("openCheckpoint", () => {
  it("reads a sharded checkpoint through model.safetensors.index.json", () => {
    const dir = fs.mkdtempSync(path.join(tmp, "sharded-"));
    writeSafetensors(path.join(dir, "model-00001-of-00002.safetensors"), [{ name: "a", shape: [2], data: Float32Array.from([1, 2]) }]);
    writeSafetensors(path.join(dir, "model-00002-of-00002.safetensors"), [{ name: "b", shape: [1], data: Float32Array.from([7]) }]);
    const weight_map = { a: "model-00001-of-00002.safetensors", b: "model-00002-of-00002.safetensors" };
    fs.writeFileSync(path.join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map }));
    const ckpt = openCheckpoint(dir);
    expect([...ckpt.read("a")]).toEqual([1, 2]);
    expect([...ckpt.read("b")]).toEqual([7]);
    expect(() => ckpt.read("c")).toThrow(/checkpoint has no tensor "c"/);
    ckpt.close();
  });

  it("names a shard that the index lists but the folder lacks", () => {
    const dir = fs.mkdtempSync(path.join(tmp, "missing-shard-"));
    fs.writeFileSync(path.join(dir, "model.safetensors.index.json"), JSON.stringify({ weight_map: { a: "gone.safetensors" } }));
    expect(() => openCheckpoint(dir)).toThrow(/lists shard gone.safetensors, which does not exist/);
  });

  it("explains an empty folder", () => {
    const dir = fs.mkdtempSync(path.join(tmp, "empty-"));
    expect(() => openCheckpoint(dir)).toThrow(/no model.safetensors or model.safetensors.index.json/);
  });
});
