/**
 * safetensors reader and writer: header parse with full validation, BF16 / F16 / F32 decode to
 * Float32Array, single files and sharded checkpoints (`model.safetensors.index.json`).
 * Knows nothing about Qwen or tfjs. Tensors are read one at a time with positioned reads, so a
 * checkpoint larger than memory for a whole-file buffer still loads.
 * Format: 8-byte little-endian header length, JSON header {name: {dtype, shape, data_offsets}},
 * then the byte buffer; offsets are relative to the end of the header.
 */
import fs from "node:fs";
import path from "node:path";

export type Dtype = "F32" | "F16" | "BF16";
const BYTES_PER_ELEMENT: Record<Dtype, number> = { F32: 4, F16: 2, BF16: 2 };
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export type TensorEntry = { dtype: Dtype; shape: number[]; begin: number; end: number };

/** One opened safetensors file. `read` returns a fresh Float32Array the caller owns. */
export type SafetensorsFile = {
  path: string;
  entries: ReadonlyMap<string, TensorEntry>;
  metadata: Record<string, string>;
  read(name: string): Float32Array;
  close(): void;
};

export function openSafetensors(filePath: string): SafetensorsFile {
  const fd = fs.openSync(filePath, "r");
  try {
    const fileSize = fs.fstatSync(fd).size;
    const { entries, metadata, dataStart } = parseHeader(fd, fileSize, filePath);
    const read = (name: string): Float32Array => {
      const e = entries.get(name);
      if (!e) throw new Error(`${filePath}: no tensor "${name}" (file has ${entries.size} tensors)`);
      const bytes = Buffer.alloc(e.end - e.begin);
      const got = fs.readSync(fd, bytes, 0, bytes.length, dataStart + e.begin);
      if (got !== bytes.length) throw new Error(`${filePath}: short read of "${name}" (${got} of ${bytes.length} bytes)`);
      return decode(bytes, e.dtype);
    };
    return { path: filePath, entries, metadata, read, close: () => fs.closeSync(fd) };
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

function parseHeader(fd: number, fileSize: number, filePath: string) {
  if (fileSize < 8) throw new Error(`${filePath}: truncated safetensors file (${fileSize} bytes, no header length)`);
  const lenBuf = Buffer.alloc(8);
  fs.readSync(fd, lenBuf, 0, 8, 0);
  const headerLen = Number(lenBuf.readBigUInt64LE(0));
  if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > fileSize)
    throw new Error(`${filePath}: header length ${headerLen} exceeds the file size ${fileSize} (truncated or not safetensors)`);
  const headerBuf = Buffer.alloc(headerLen);
  fs.readSync(fd, headerBuf, 0, headerLen, 8);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(headerBuf.toString("utf8"));
  } catch (cause) {
    throw new Error(`${filePath}: header is not valid JSON`, { cause });
  }
  const dataStart = 8 + headerLen;
  const dataSize = fileSize - dataStart;
  const entries = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    entries.set(name, checkEntry(raw, name, dataSize, filePath));
  }
  checkNoOverlap(entries, filePath);
  return { entries, metadata, dataStart };
}

function checkEntry(raw: unknown, name: string, dataSize: number, filePath: string): TensorEntry {
  const where = `${filePath}: tensor "${name}"`;
  const r = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof r !== "object" || r === null) throw new Error(`${where}: header entry is not an object`);
  if (typeof r.dtype !== "string" || !(r.dtype in BYTES_PER_ELEMENT))
    throw new Error(`${where}: unsupported dtype ${JSON.stringify(r.dtype)} (supported: F32, F16, BF16)`);
  const shape = r.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
    throw new Error(`${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  const offsets = r.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0))
    throw new Error(`${where}: data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
  const [begin, end] = offsets as [number, number];
  const dtype = r.dtype as Dtype;
  const want = shape.reduce((a: number, b: number) => a * b, 1) * BYTES_PER_ELEMENT[dtype];
  if (end - begin !== want)
    throw new Error(`${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype}[${shape}] needs ${want}`);
  if (end > dataSize)
    throw new Error(`${where}: data ends at byte ${end} but the file holds only ${dataSize} data bytes (truncated file?)`);
  return { dtype, shape: shape as number[], begin, end };
}

function checkNoOverlap(entries: Map<string, TensorEntry>, filePath: string): void {
  const sorted = [...entries.entries()].sort((a, b) => a[1].begin - b[1].begin);
  for (let i = 1; i < sorted.length; i++) {
    const [prevName, prev] = sorted[i - 1];
    const [name, cur] = sorted[i];
    if (cur.begin < prev.end)
      throw new Error(`${filePath}: tensors "${prevName}" and "${name}" overlap (header offsets are inconsistent)`);
  }
}

/** Decodes little-endian F32 / F16 / BF16 bytes to float32. */
export function decode(bytes: Uint8Array, dtype: Dtype): Float32Array {
  const n = bytes.length / BYTES_PER_ELEMENT[dtype];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  if (dtype === "F32") {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  } else if (dtype === "BF16") {
    // bf16 is the top half of an f32: shift into place and reinterpret
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u32[i] = view.getUint16(2 * i, true) << 16;
  } else {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Rounds float32 values to bf16 (round to nearest even) and returns the raw 16-bit words. */
export function encodeBf16(values: Float32Array): Uint16Array {
  const u32 = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = u32[i];
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) out[i] = (x >>> 16) | 0x40; // keep NaN a NaN
    else out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

export type TensorToWrite = { name: string; shape: number[]; data: Float32Array; dtype?: "F32" | "BF16" };

/** Writes tensors (sorted by name, as HF does) atomically: a temp file renamed into place. */
export function writeSafetensors(filePath: string, tensors: TensorToWrite[], metadata: Record<string, string> = {}): void {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = { __metadata__: metadata };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of sorted) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new Error(`writeSafetensors: "${t.name}" has ${t.data.length} values for shape [${t.shape}]`);
    const dtype = t.dtype ?? "F32";
    const bytes = dtype === "F32" ? new Uint8Array(Float32Array.from(t.data).buffer) : new Uint8Array(encodeBf16(t.data).buffer);
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8); // pad so the data starts 8-byte aligned
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const tmp = `${filePath}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, Buffer.concat([len, Buffer.from(json), ...chunks]));
  fs.renameSync(tmp, filePath);
}

/** A checkpoint folder: one `model.safetensors` or shards listed in `model.safetensors.index.json`. */
export type Checkpoint = {
  dir: string;
  /** Every tensor name → its entry and the file that holds it. */
  entries: ReadonlyMap<string, TensorEntry & { file: string }>;
  read(name: string): Float32Array;
  close(): void;
};

export function openCheckpoint(dir: string): Checkpoint {
  const indexPath = path.join(dir, "model.safetensors.index.json");
  const singlePath = path.join(dir, "model.safetensors");
  let files: string[];
  let weightMap: Record<string, string> | undefined;
  if (fs.existsSync(indexPath)) {
    weightMap = readIndex(indexPath);
    files = [...new Set(Object.values(weightMap))].map((f) => path.join(dir, f));
  } else if (fs.existsSync(singlePath)) {
    files = [singlePath];
  } else {
    throw new Error(`${dir}: no model.safetensors or model.safetensors.index.json\n---> HINT: point --model at a Hugging Face checkpoint folder`);
  }
  const opened = files.map((f) => {
    if (!fs.existsSync(f)) throw new Error(`${indexPath}: lists shard ${path.basename(f)}, which does not exist in ${dir}`);
    return openSafetensors(f);
  });
  const entries = new Map<string, TensorEntry & { file: string }>();
  const byName = new Map<string, SafetensorsFile>();
  for (const file of opened)
    for (const [name, e] of file.entries) {
      entries.set(name, { ...e, file: file.path });
      byName.set(name, file);
    }
  for (const [name, shard] of Object.entries(weightMap ?? {}))
    if (byName.get(name)?.path !== path.join(dir, shard))
      throw new Error(`${indexPath}: maps "${name}" to ${shard}, but that shard does not contain it`);
  return {
    dir,
    entries,
    read: (name) => (byName.get(name) ?? missing(name, dir)).read(name),
    close: () => opened.forEach((f) => f.close()),
  };
}

function missing(name: string, dir: string): never {
  throw new Error(`${dir}: checkpoint has no tensor "${name}"`);
}

function readIndex(indexPath: string): Record<string, string> {
  let index: { weight_map?: unknown };
  try {
    index = JSON.parse(fs.readFileSync(indexPath, "utf8"));
  } catch (cause) {
    throw new Error(`${indexPath}: not valid JSON`, { cause });
  }
  const map = index.weight_map;
  if (typeof map !== "object" || map === null || !Object.values(map).every((v) => typeof v === "string"))
    throw new Error(`${indexPath}: "weight_map" must map tensor names to shard file names`);
  return map as Record<string, string>;
}
