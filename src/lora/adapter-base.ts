/**
 * Which base model an adapter belongs to. PEFT records `base_model_name_or_path` in
 * adapter_config.json (a hub id or a path, as given); trirl's saveAdapter also writes
 * `trirl_base_model.json` beside it: the base folder's absolute path and the fingerprint of its
 * weights (model/fingerprint.ts). Applying an adapter to another model of the same shapes loads without
 * error and evaluates a model that never existed, so callers check the base first.
 */
import fs from "node:fs";
import path from "node:path";
import { isCheckpointDir, modelFingerprint } from "../model/fingerprint.ts";
import { ADAPTER_CONFIG_FILE, BASE_RECORD_FILE, type BaseRecord } from "./peft.ts";

function readJsonObject(file: string): Record<string, unknown> | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    const value: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch (cause) {
    throw new Error(`${file}: not valid JSON`, { cause });
  }
}

function readBaseRecord(adapterDir: string): BaseRecord | undefined {
  const raw = readJsonObject(path.join(adapterDir, BASE_RECORD_FILE));
  return raw && typeof raw.path === "string" && typeof raw.fingerprint === "string" ? { path: raw.path, fingerprint: raw.fingerprint } : undefined;
}

function peftBaseName(adapterDir: string): string | undefined {
  const value = readJsonObject(path.join(adapterDir, ADAPTER_CONFIG_FILE))?.base_model_name_or_path;
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The base model folder an adapter names: trirl's record, else PEFT's `base_model_name_or_path` when it is a local folder. */
export function adapterBaseDir(adapterDir: string): string {
  const recorded = readBaseRecord(adapterDir)?.path;
  const peft = peftBaseName(adapterDir);
  for (const dir of [recorded, peft]) if (dir !== undefined && isCheckpointDir(dir)) return dir;
  const named = recorded ?? peft;
  throw new Error(named === undefined
    ? `${adapterDir}: the adapter does not name its base model\n---> HINT: pass --model DIR`
    : `${adapterDir}: its base model ${named} is not a local checkpoint folder\n---> HINT: pass --model DIR with that model`);
}

/**
 * Throws unless `modelDir` holds the adapter's base: the same weights when trirl recorded them,
 * else a folder of the same name as PEFT's `base_model_name_or_path` (a hub id's last part).
 * An adapter that names no base passes.
 */
export function checkAdapterBase(adapterDir: string, modelDir: string): void {
  const record = readBaseRecord(adapterDir);
  const hint = "---> HINT: omit --model to use the adapter's own base, or pass --force to apply it anyway";
  if (record) {
    if (modelFingerprint(modelDir) === record.fingerprint) return;
    throw new Error(`${adapterDir}: the adapter was trained on ${record.path}, and ${modelDir} holds other weights (${BASE_RECORD_FILE} records the base's fingerprint)\n${hint}`);
  }
  const peft = peftBaseName(adapterDir);
  if (peft === undefined) return;
  const name = (p: string) => path.basename(path.resolve(p)).toLowerCase();
  if (name(peft) !== name(modelDir))
    throw new Error(`${adapterDir}: adapter_config.json names its base "${peft}", not ${modelDir}\n${hint}`);
}
