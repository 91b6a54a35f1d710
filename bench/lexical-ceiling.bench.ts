/**
 * How far surface words carry the user label from the train split to the test split (measured,
 * not a test). The tiny default model starts from random weights, so what it can learn about a
 * request comes from the train split's words alone. A multinomial logistic regression on word
 * features, trained on every train scenario *with its label* — far more supervision than RL's
 * rewards give — is scored on the test split, whose templates are different (SPEC §3).
 *   npx tsx bench/lexical-ceiling.bench.ts [--seed 0]
 */
import { parseArgs } from "node:util";
import { builtinScenarios } from "../src/scenario/corpus/generate.ts";
import { LABELS, type Label, type Scenario } from "../src/scenario/schema.ts";

const { values: args } = parseArgs({ options: { seed: { type: "string", default: "0" } } });

type Features = (s: Scenario) => string[];
const words = (s: Scenario) => s.messages.map((m) => m.content).join(" ").toLowerCase().match(/[a-z]+/g) ?? [];
const FEATURES: Record<string, Features> = {
  "words": (s) => words(s).map((w) => `w:${w}`),
  "words + word pairs": (s) => {
    const w = words(s);
    return [...w.map((x) => `w:${x}`), ...w.slice(1).map((x, i) => `p:${w[i]}_${x}`)];
  },
  "words + tool classes offered": (s) => [...words(s).map((w) => `w:${w}`), ...s.tools.map((t) => `t:${t.class}`)],
};

/** Softmax regression by SGD (L2 0.001, 200 epochs) on binary feature presence; returns a classifier. */
function fit(train: readonly Scenario[], features: Features): (s: Scenario) => Label {
  const vocab = new Map<string, number>();
  const encode = (s: Scenario, grow: boolean) => [...new Set(features(s))].flatMap((f) => {
    if (!vocab.has(f) && grow) vocab.set(f, vocab.size);
    return vocab.has(f) ? [vocab.get(f)!] : [];
  });
  const rows = train.map((s) => ({ x: encode(s, true), y: LABELS.indexOf(s.user) }));
  const w = LABELS.map(() => new Float64Array(vocab.size + 1)); // last slot: bias
  const logits = (x: number[]) => w.map((wk) => x.reduce((a, i) => a + wk[i], wk[vocab.size]));
  for (let epoch = 0; epoch < 200; epoch++)
    for (const { x, y } of rows) {
      const z = logits(x);
      const m = Math.max(...z);
      const p = z.map((v) => Math.exp(v - m));
      const sum = p.reduce((a, b) => a + b, 0);
      w.forEach((wk, k) => {
        const g = p[k] / sum - (k === y ? 1 : 0);
        for (const i of x) wk[i] -= 0.1 * g + 0.001 * wk[i];
        wk[vocab.size] -= 0.1 * g;
      });
    }
  return (s) => {
    const z = logits(encode(s, false));
    return LABELS[z.indexOf(Math.max(...z))];
  };
}

const all = builtinScenarios({ seed: Number(args.seed) });
const train = all.filter((s) => s.split === "train");
const test = all.filter((s) => s.split === "test");
const accuracy = (predict: (s: Scenario) => Label, set: readonly Scenario[]) =>
  Object.fromEntries(LABELS.map((l) => {
    const of = set.filter((s) => s.user === l);
    return [l, Number((of.filter((s) => predict(s) === l).length / of.length).toFixed(3))];
  }));
const report = Object.entries(FEATURES).map(([name, features]) => {
  const predict = fit(train, features);
  return { features: name, train: accuracy(predict, train), test: accuracy(predict, test) };
});
console.log(JSON.stringify({ train_scenarios: train.length, test_scenarios: test.length, report }, null, 2));
