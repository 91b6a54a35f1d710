/** The embedded tiny model and its tokenizer on the wasm backend, for tests that train it. */
import { initBackend } from "../../src/model/backend.ts";
import { ensureTinyModel } from "../../src/model/tiny-model.ts";
import { loadTokenizer, type Tokenizer } from "../../src/model/tokenizer.ts";
import { loadModel, type QwenModel } from "../../src/model/weights.ts";

/** Generates the model on first use; the caller disposes it (`disposeModel`). */
export async function loadTinyModel(): Promise<{ model: QwenModel; tokenizer: Tokenizer }> {
  await initBackend("wasm");
  const dir = ensureTinyModel();
  return { model: loadModel(dir), tokenizer: await loadTokenizer(dir) };
}
