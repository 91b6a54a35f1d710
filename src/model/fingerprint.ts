/**
 * A checkpoint folder's fingerprint: which weights it holds, so that an adapter can tell the base
 * it was trained on from another folder of the same shapes (the tiny model and its warm start
 * differ only in values). Hashes each weight file (not config.json, which users edit): whole when small, else its
 * size, its header and 64 evenly spaced 4 KiB blocks (milliseconds for a 2 GB file; two
 * checkpoints that differ anywhere in their trained values differ in those blocks).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const WHOLE_FILE_BYTES = 64 << 20;
const BLOCKS = 64;
const BLOCK_BYTES = 4096;

/** Whether `dir` is a local checkpoint folder (config.json and weights), as opposed to a hub id. */
export function isCheckpointDir(dir: string): boolean {
  const has = (f: string) => fs.existsSync(path.join(dir, f));
  return has("config.json") && (has("model.safetensors") || has("model.safetensors.index.json"));
}

function weightFiles(dir: string): string[] {
  const index = path.join(dir, "model.safetensors.index.json");
  if (!fs.existsSync(index)) return [path.join(dir, "model.safetensors")];
  const map = (JSON.parse(fs.readFileSync(index, "utf8")) as { weight_map?: Record<string, string> }).weight_map ?? {};
  return [...new Set(Object.values(map))].sort().map((f) => path.join(dir, f));
}

function hashFile(hash: crypto.Hash, file: string): void {
  const size = fs.statSync(file).size;
  hash.update(`${path.basename(file)}:${size}\n`);
  if (size <= WHOLE_FILE_BYTES) return void hash.update(fs.readFileSync(file));
  const fd = fs.openSync(file, "r");
  try {
    const block = Buffer.alloc(BLOCK_BYTES);
    const header = Buffer.alloc(8);
    fs.readSync(fd, header, 0, 8, 0);
    const headerBytes = Math.min(size, 8 + Number(header.readBigUInt64LE(0)));
    const headerBuf = Buffer.alloc(headerBytes);
    fs.readSync(fd, headerBuf, 0, headerBytes, 0);
    hash.update(headerBuf);
    for (let i = 0; i < BLOCKS; i++) {
      const at = headerBytes + Math.floor(((size - headerBytes - BLOCK_BYTES) * i) / (BLOCKS - 1));
      hash.update(block.subarray(0, fs.readSync(fd, block, 0, BLOCK_BYTES, at)));
    }
  } finally {
    fs.closeSync(fd);
  }
}

const memo = new Map<string, string>();

/** `sha256:<hex>` of the folder's weights (memoised per file set, size and mtime). @throws when a file cannot be read. */
export function modelFingerprint(dir: string): string {
  const files = weightFiles(dir);
  const key = files.map((f) => { const st = fs.statSync(f); return `${path.resolve(f)}:${st.size}:${st.mtimeMs}`; }).join("|");
  const known = memo.get(key);
  if (known !== undefined) return known;
  const hash = crypto.createHash("sha256");
  for (const file of files) hashFile(hash, file);
  const fingerprint = `sha256:${hash.digest("hex")}`;
  memo.set(key, fingerprint);
  return fingerprint;
}
