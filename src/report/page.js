/*
 * trirl report page script (inlined into report.html by src/report/page.ts). Builds the tables,
 * one uPlot chart per ChartSpec (src/report/chart.ts) and the sample-episode browser from the JSON
 * in #trirl-data. Text from a run (model output, tool results) only ever goes through textContent.
 * Every chart is listed in window.trirlCharts ({ id, spec, uplot }) for tests and the console.
 */
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("trirl-data").textContent);
  const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
  const app = document.getElementById("app");
  window.trirlCharts = [];

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else if (k === "className") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const c of children || []) node.append(c);
    return node;
  }

  function fmt(v) {
    if (v === null || v === undefined) return "–";
    if (typeof v !== "number") return String(v);
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(3) : v.toExponential(2);
  }

  function renderTable(t) {
    const head = el("tr", {}, t.columns.map((c) => el("th", { text: c })));
    const rows = t.rows.map((row) => el("tr", {}, row.map((cell) => {
      if (cell && typeof cell === "object") return el("td", {}, [el("a", { href: cell.href, text: cell.text })]);
      return el("td", { text: fmt(cell), className: typeof cell === "number" ? "num" : "" });
    })));
    return el("section", { id: t.id }, [el("h2", { text: t.title }), el("table", {}, [el("thead", {}, [head]), el("tbody", {}, rows)])]);
  }

  /** Grouped bars: series k of `count` is drawn in its own slot of each category. */
  function barPaths(k, count) {
    const w = 0.8 / count;
    return uPlot.paths.bars({
      align: 1,
      disp: { x0: { unit: 1, values: (u) => u.data[0].map((x) => x - 0.4 + k * w) }, size: { unit: 1, values: () => [w] } },
    });
  }

  // ticks of a numeric axis: up to 4 significant digits, no float noise (0.0015000000000000002)
  const tickValues = (u, splits) => splits.map((v) => (v === null ? "" : String(Number(v.toPrecision(4)))));
  // steps are whole numbers: no tick at 0.5
  const STEP_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000];

  function xAxis(spec) {
    const axis = { label: spec.xTitle || undefined };
    if (!spec.xLabels) return Object.assign(axis, { incrs: STEP_INCRS, values: tickValues });
    const longest = Math.max(...spec.xLabels.map((l) => l.length));
    return Object.assign(axis, {
      splits: () => spec.x,
      values: (u, splits) => splits.map((i) => spec.xLabels[i] ?? ""),
      rotate: longest > 10 ? -30 : 0,
      // a label rotated by 30° drops by half its width (≈ 7 px a character at 12 px)
      size: longest > 10 ? Math.min(180, 30 + Math.ceil(3.6 * longest)) : 40,
    });
  }

  /** uPlot series and data columns of a spec; a band adds its two edges as thin series. */
  function seriesOf(spec) {
    const isBars = spec.kind === "bars";
    const xLabel = (u, v) => (v === null ? "–" : spec.xLabels ? spec.xLabels[v] ?? String(v) : String(v));
    const series = [{ label: spec.xTitle || "x", value: xLabel }];
    const columns = [spec.x];
    const bands = [];
    const bandEdges = [];
    spec.series.forEach((s, k) => {
      const color = COLORS[k % COLORS.length];
      const value = (u, v) => fmt(v);
      if (isBars) series.push({ label: s.label, stroke: color, fill: color + "cc", width: 1, paths: barPaths(k, spec.series.length), points: { show: false }, value });
      else if (s.isPoints) series.push({ label: s.label, stroke: color, fill: color, width: 0, paths: () => null, points: { show: true, size: 12, fill: color }, value });
      else series.push({ label: s.label, stroke: color, width: 1.5, spanGaps: true, points: { show: spec.x.length <= 40, size: 5 }, value });
      columns.push(s.values);
      if (s.lo && s.hi) {
        for (const [edge, values] of [["+", s.hi], ["−", s.lo]]) {
          series.push({ label: `${s.label} ${edge} std`, stroke: color + "66", width: 1, dash: [4, 3], spanGaps: true, points: { show: false }, value });
          columns.push(values);
        }
        bands.push({ series: [series.length - 2, series.length - 1], fill: color + "22" });
        bandEdges.push(series.length - 2, series.length - 1);
      }
    });
    return { series, columns, bands, bandEdges };
  }

  function renderChart(spec, card) {
    const { series, columns, bands, bandEdges } = seriesOf(spec);
    const isCategorical = Boolean(spec.xLabels);
    const n = spec.x.length;
    const x = xAxis(spec);
    const opts = {
      title: spec.title,
      width: Math.max(320, card.clientWidth - 20),
      height: 220 + (x.size ?? 40), // a tall axis of rotated labels does not squeeze the plot
      series,
      bands,
      scales: {
        x: { time: false, range: isCategorical ? [-0.5, n - 0.5] : undefined },
        y: spec.yRange ? { range: spec.yRange } : {},
      },
      axes: [x, { size: 56, values: tickValues }],
      legend: { live: true },
    };
    const u = new uPlot(opts, columns, card);
    // a band's edges stay out of the legend: the band is described by its series' label
    const rows = u.root.querySelectorAll(".u-legend .u-series");
    for (const i of bandEdges) if (rows[i]) rows[i].style.display = "none";
    card.dataset.points = String(u.data[0].length);
    card.dataset.series = String(spec.series.length);
    window.trirlCharts.push({ id: spec.id, spec, uplot: u });
  }

  function renderCharts(charts) {
    const groups = [...new Set(charts.map((c) => c.group))];
    for (const group of groups) {
      const grid = el("div", { className: "grid" });
      app.append(el("section", { className: "charts" }, [el("h2", { text: group }), grid]));
      for (const spec of charts.filter((c) => c.group === group)) {
        const card = el("div", { className: "card chart", id: `chart-${spec.id}` });
        grid.append(card);
        renderChart(spec, card);
      }
    }
  }

  function messageEl(m, isSampled) {
    const note = isSampled ? "sampled by the policy · loss mask 1" : "not sampled · loss mask 0";
    return el("div", { className: `msg ${isSampled ? "sampled" : "masked"} role-${m.role}` }, [
      el("div", { className: "msg-head", text: `${m.role} — ${note}` }),
      el("pre", { text: m.content }),
    ]);
  }

  function partsText(parts) {
    return Object.entries(parts).map(([k, v]) => `${k} ${fmt(v)}`).join(" · ");
  }

  function episodeEl(e, index) {
    const sign = e.advantage > 0 ? "+" : "";
    const summary = el("summary", {}, [
      el("span", { className: "ep-index", text: `#${index}` }),
      el("span", { text: `reward ${fmt(e.reward)}` }),
      el("span", { className: e.advantage >= 0 ? "adv pos" : "adv neg", text: `advantage ${sign}${fmt(e.advantage)}` }),
      el("span", { text: `finish ${e.finish}` }),
      el("span", { className: "parts", text: partsText(e.parts) }),
    ]);
    // a sample's messages are the turns after the prompt: the assistant's are exactly what the policy sampled
    const body = el("div", { className: "messages" }, e.messages.map((m) => messageEl(m, m.role === "assistant")));
    return el("details", { className: "episode" }, [summary, body]);
  }

  function groupEl(view, scenarioId, episodes) {
    const s = view.scenarios[scenarioId];
    const head = `${scenarioId} · user ${episodes[0].user}${s ? ` · ${s.category} · expects ${s.decision}` : ""} · ${episodes.length} episodes`;
    const prompt = [{ role: "system", content: view.systemPrompt }, ...(s ? s.messages : [])];
    const promptEl = el("details", { className: "prompt" }, [el("summary", { text: "prompt (system + scenario messages)" }), ...prompt.map((m) => messageEl(m, false))]);
    return el("div", { className: "group card" }, [el("h4", { text: head }), promptEl, ...episodes.map((e, i) => episodeEl(e, i))]);
  }

  function showStep(view, step, list) {
    const byScenario = new Map();
    for (const e of step.episodes) byScenario.set(e.scenario_id, [...(byScenario.get(e.scenario_id) || []), e]);
    list.replaceChildren(...[...byScenario].map(([id, eps]) => groupEl(view, id, eps)));
    list.dataset.episodes = String(step.episodes.length);
  }

  function renderSamples(views) {
    const section = el("section", { id: "samples" }, [el("h2", { text: "Sample episodes" })]);
    app.append(section);
    const withSteps = views.filter((v) => v.steps.length > 0);
    if (withSteps.length === 0) return section.append(el("p", { text: "No sample episodes (sampleEvery is 0, or no sampled step yet)." }));
    section.append(el("p", { className: "legend" }, [
      el("span", { className: "msg sampled swatch", text: "assistant: sampled, loss mask 1" }),
      el("span", { className: "msg masked swatch", text: "prompt, tool results, check answers: loss mask 0" }),
    ]));
    const runSelect = el("select", { id: "sample-run" }, withSteps.map((v, i) => el("option", { value: String(i), text: v.run })));
    const stepSelect = el("select", { id: "sample-step" });
    const list = el("div", { id: "sample-list" });
    const fillSteps = () => {
      const view = withSteps[Number(runSelect.value)];
      stepSelect.replaceChildren(...view.steps.map((s, i) => el("option", { value: String(i), text: `step ${s.step} (${s.episodes.length} episodes)` })));
      showStep(view, view.steps[0], list);
    };
    runSelect.addEventListener("change", fillSteps);
    stepSelect.addEventListener("change", () => {
      const view = withSteps[Number(runSelect.value)];
      showStep(view, view.steps[Number(stepSelect.value)], list);
    });
    const controls = [el("label", { text: "step " }, [stepSelect])];
    if (withSteps.length > 1) controls.unshift(el("label", { text: "run " }, [runSelect]));
    section.append(el("div", { className: "controls" }, controls), list);
    fillSteps();
  }

  function render() {
    app.append(el("h1", { text: data.title }), ...data.notes.map((n) => el("p", { className: "note", text: n })));
    for (const t of data.tables) app.append(renderTable(t));
    renderCharts(data.charts);
    if (data.samples.length > 0) renderSamples(data.samples);
    for (const d of data.details)
      app.append(el("details", { className: "config" }, [el("summary", { text: d.title }), el("pre", { text: JSON.stringify(d.json, null, 2) })]));
    document.body.dataset.ready = "true";
  }

  render();
})();
