/* The backprop explorer: steps through a tape written by nb_tape_write_html.
 *
 * The data (the JSON in #tape-data, made by src/autograd/html_data.c):
 *   tensors[id]  {id, name, kind: "data" | "parameter" | "result", node,
 *                 shape, shape_text, dtype, size, values, stats, values_text,
 *                 grad, grad_stats, grad_text}; values and grad hold the
 *                 first max_values numbers, stats {min, max, mean} all.
 *                 Ids: node i's result is i, the leaves come after.
 *   nodes[i]     {index, op, inputs: [id], output: id, header,
 *                 lines: [{role: "in" | "out", tensor, text}]}
 *   backward     null before backward, else {banner, loss, steps, leaf_grads}
 *   steps[k]     {node, header, upstream, upstream_values,
 *                 inputs: [{tensor, name, sent, lines: [{label, text}]}]}
 *                 in reverse tape order, as nb_tape_trace_backward prints.
 * Every text is made by the same C code as the text trace: the page shows
 * them as they are and computes no number of its own but the heat maps'
 * colours. */
"use strict";

(function () {
  const data = JSON.parse(document.getElementById("tape-data").textContent);
  const tensors = data.tensors;
  const nodes = data.nodes;
  const backward = data.backward;
  const SVG = "http://www.w3.org/2000/svg";

  /* ---- the positions to step through ---------------------------------- */

  const positions = [{ kind: "start" }];
  nodes.forEach((node, i) => positions.push({ kind: "forward", node: i, nth: i }));
  if (backward) {
    backward.steps.forEach((step, k) =>
      positions.push({ kind: "backward", node: step.node, step: k }));
    positions.push({ kind: "done" });
  }
  /* the backward step of each node, and the last step that sends to each leaf */
  const stepOfNode = new Map();
  const lastSendTo = new Map();
  if (backward) {
    backward.steps.forEach((step, k) => {
      stepOfNode.set(step.node, k);
      step.inputs.forEach((input) => {
        if (input.sent) lastSendTo.set(input.tensor, k);
      });
    });
  }

  let position = 0;
  let selected = null; /* the tensor shown in the heat maps */

  /* ---- small helpers --------------------------------------------------- */

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") e.className = value;
      else e.setAttribute(key, value);
    }
    for (const child of children) e.append(child);
    return e;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) e.setAttribute(key, value);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /* A number for a small box: 4 significant digits. */
  function short(v) {
    if (v === null) return "nan";
    const s = Number(v.toPrecision(4)).toString();
    return s === "-0" ? "0" : s;
  }

  /* As many first values as fit a box's line (3 digits each), then "…". */
  function shortList(values, size) {
    if (!values) return "";
    const parts = [];
    for (const v of values) {
      const s = v === null ? "nan" : Number(v.toPrecision(3)).toString().replace(/^-0$/, "0");
      if (parts.length && parts.join(", ").length + s.length > 13) break;
      parts.push(s);
    }
    return "[" + parts.join(", ") + (parts.length < size ? ", …" : "") + "]";
  }

  /* ---- layout: columns by depth ----------------------------------------- */

  const BOX_W = 150, BOX_H = 70, COL_W = 190, ROW_H = 88, MARGIN = 20;

  /* Each op's column is one past its latest input's; a leaf sits one column
   * before its first consumer. Within a column an op goes level with the
   * mean of its inputs, a leaf next to its consumer, on the nearest free row. */
  function layout() {
    const place = new Map(); /* tensor id -> {col, y}; an op is drawn as its result */
    nodes.forEach((node) => {
      let col = 1;
      for (const id of node.inputs)
        if (tensors[id].kind === "result" && place.has(id)) col = Math.max(col, place.get(id).col + 1);
      place.set(node.output, { col: col, y: null });
    });
    const columns = new Map();
    const taken = (col) => columns.get(col) || columns.set(col, []).get(col);
    const settle = (id, col, want) => {
      const ys = taken(col);
      for (let k = 0; ; k++) {
        for (const y of k === 0 ? [want] : [want + k * ROW_H, want - k * ROW_H]) {
          if (ys.every((other) => Math.abs(other - y) >= ROW_H)) {
            ys.push(y);
            place.set(id, { col: col, y: y });
            return;
          }
        }
      }
    };
    nodes.forEach((node) => {
      const ys = node.inputs.filter((id) => tensors[id].kind === "result" && place.has(id))
        .map((id) => place.get(id).y).filter((y) => y !== null);
      const want = ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : 0;
      settle(node.output, place.get(node.output).col, Math.round(want / ROW_H) * ROW_H);
    });
    nodes.forEach((node) => {
      node.inputs.forEach((id) => {
        if (place.has(id)) return;
        const consumer = place.get(node.output);
        settle(id, Math.max(consumer.col - 1, 0), consumer.y - ROW_H / 2);
      });
    });
    const all = [...place.values()];
    const top = Math.min(...all.map((p) => p.y));
    for (const p of all) {
      p.x = MARGIN + p.col * COL_W;
      p.y = MARGIN + p.y - top;
    }
    const width = MARGIN * 2 + (Math.max(...all.map((p) => p.col)) * COL_W) + BOX_W;
    const height = MARGIN * 2 + Math.max(...all.map((p) => p.y)) - MARGIN + BOX_H;
    return { place: place, width: width, height: height };
  }

  /* ---- drawing the graph ------------------------------------------------ */

  const boxes = new Map(); /* tensor id -> {group, lines} */
  const edges = []; /* {node, input, path} */

  function markers(defs) {
    for (const [id, start] of [["arrow", false], ["arrow-forward", false], ["arrow-backward", true]]) {
      const m = svg("marker", { id: id, viewBox: "0 0 10 10", refX: "9", refY: "5",
                                markerUnits: "userSpaceOnUse", markerWidth: "9", markerHeight: "9",
                                orient: start ? "auto-start-reverse" : "auto" });
      m.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z" }));
      defs.append(m);
    }
  }

  function drawEdges(root, place) {
    nodes.forEach((node, i) => {
      node.inputs.forEach((id, j) => {
        const a = place.get(id), b = place.get(node.output);
        const x1 = a.x + BOX_W, y1 = a.y + BOX_H / 2, x2 = b.x, y2 = b.y + BOX_H / 2;
        const mid = (x1 + x2) / 2;
        const path = svg("path", { class: "edge", d: `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`,
                                   "marker-end": "url(#arrow)" });
        root.append(path);
        edges.push({ node: i, input: j, path: path });
      });
    });
  }

  function drawBox(root, id, p) {
    const t = tensors[id];
    const leaf = t.kind !== "result";
    const g = svg("g", { class: "node " + t.kind, transform: `translate(${p.x}, ${p.y})`,
                         tabindex: "0", role: "button", "data-tensor": String(id) });
    g.append(svg("rect", { width: BOX_W, height: BOX_H, rx: leaf ? 22 : 3 }));
    const title = leaf ? `${t.name} (${t.kind})` : `${nodes[t.node].op} → ${t.name}`;
    const lines = [title, t.shape_text + " " + t.dtype, "", ""].map((text, k) => {
      const line = svg("text", { x: 10, y: 17 + 16 * k, class: k === 0 ? "title" : k === 3 ? "grad" : "" }, text);
      g.append(line);
      return line;
    });
    g.addEventListener("click", () => inspect(id));
    g.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        inspect(id);
      }
    });
    root.append(g);
    boxes.set(id, { group: g, lines: lines });
  }

  function drawGraph() {
    const { place, width, height } = layout();
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width: width, height: height,
                              role: "group", "aria-label": "The tape as a graph: " +
                              nodes.length + " ops. Each node is a button that shows its heat map." });
    const defs = svg("defs");
    markers(defs);
    root.append(defs);
    drawEdges(root, place);
    for (const [id, p] of place) drawBox(root, id, p);
    document.getElementById("graph").append(root);
  }

  /* ---- what the graph shows at a position ------------------------------- */

  function computed(t, pos) {
    if (t.kind !== "result") return true;
    if (pos.kind === "start") return false;
    return pos.kind !== "forward" || t.node <= pos.nth;
  }

  /* A tensor's gradient is shown once the sweep has finished with it: a
   * result from its own op's step on, a leaf after the last op sending to it. */
  function gradShown(t, pos) {
    if (!t.grad || (pos.kind !== "backward" && pos.kind !== "done")) return false;
    if (pos.kind === "done") return true;
    if (t.kind === "result") return stepOfNode.has(t.node) && stepOfNode.get(t.node) <= pos.step;
    return lastSendTo.has(t.id) && lastSendTo.get(t.id) <= pos.step;
  }

  function updateGraph(pos) {
    const current = pos.kind === "forward" || pos.kind === "backward" ? nodes[pos.node] : null;
    for (const [id, box] of boxes) {
      const t = tensors[id];
      const done = computed(t, pos);
      const isCurrent = current !== null && current.output === id;
      const isInput = current !== null && current.inputs.includes(id);
      box.group.classList.toggle("pending", !done);
      box.group.classList.toggle("current", isCurrent);
      box.group.classList.toggle("input", isInput);
      box.group.classList.toggle("selected", selected === id);
      const title = t.kind === "result" ? `${nodes[t.node].op} → ${t.name}` : `${t.name} (${t.kind})`;
      box.lines[0].textContent = (isCurrent ? "▶ " : "") + title;
      box.lines[2].textContent = done ? shortList(t.values, t.size) : "not computed yet";
      box.lines[3].textContent = gradShown(t, pos) ? "∇ " + shortList(t.grad, t.size) : "";
      box.group.setAttribute("aria-label", `${title}, shape ${t.shape_text}` +
        (done ? `, values ${t.values_text}` : ", not computed yet") +
        (gradShown(t, pos) ? `, gradient ${t.grad_text}` : "") +
        (isCurrent ? ", the current op" : "") + ". Show its heat map.");
    }
    for (const edge of edges) {
      const active = current !== null && edge.node === pos.node;
      const back = active && pos.kind === "backward";
      edge.path.classList.toggle("active-forward", active && !back);
      edge.path.classList.toggle("active-backward", back);
      edge.path.setAttribute("marker-end", back ? "" : active ? "url(#arrow-forward)" : "url(#arrow)");
      edge.path.setAttribute("marker-start", back ? "url(#arrow-backward)" : "");
    }
  }

  /* ---- the step panel --------------------------------------------------- */

  function inspectButton(id) {
    const button = el("button", { type: "button", class: "inspect",
                                  "aria-label": "Heat map of " + tensors[id].name }, "heat map");
    button.addEventListener("click", () => inspect(id));
    return button;
  }

  function traceLine(text, cls) {
    return el("div", { class: "trace-line" + (cls ? " " + cls : "") }, text);
  }

  function showStart(body) {
    body.append(el("p", {}, `The tape recorded ${nodes.length} op${nodes.length === 1 ? "" : "s"}. ` +
      "Step forward through them to see what each computes, then backward through the sweep " +
      "to see what each op receives from above and sends to its inputs."));
    if (!backward)
      body.append(el("p", { class: "note" }, "This tape was not backward-ed when the page was " +
        "written, so only the forward pass is shown."));
    else
      body.append(el("p", {}, backward.banner));
    return "Start";
  }

  function showForward(body, pos) {
    const node = nodes[pos.node];
    body.append(traceLine(node.header, "header"));
    for (const line of node.lines) {
      const row = traceLine(`    ${line.role.padEnd(4)} ${line.text}`, "value-" + line.role);
      row.append(inspectButton(line.tensor));
      body.append(row);
    }
    return `Forward ${pos.nth + 1} of ${nodes.length}: ${node.header}`;
  }

  /* The step as nb_tape_trace_backward lays it out, for comparing. */
  function traceText(step) {
    const out = [step.header, "    " + "upstream".padEnd(13) + " " + step.upstream];
    for (const input of step.inputs) {
      input.lines.forEach((line, k) => {
        const head = k === 0 ? "    to " + input.name.padEnd(10) + " " : " ".repeat(18);
        const label = line.label ? (line.label + ":").padEnd(7) : "";
        out.push(head + label + line.text);
      });
    }
    return out.join("\n");
  }

  function showBackward(body, pos) {
    const step = backward.steps[pos.step];
    body.append(el("p", { class: "banner" }, backward.banner));
    body.append(traceLine(step.header, "header"));
    body.append(traceLine("upstream: " + step.upstream, "upstream"));
    for (const input of step.inputs) {
      const block = el("div", { class: "input-block" });
      const heading = el("h3", {}, "to " + input.name);
      heading.append(inspectButton(input.tensor));
      block.append(heading);
      const list = el("dl");
      for (const line of input.lines) {
        list.append(el("dt", { class: "label-" + (line.label || "note") }, line.label ? line.label + ":" : "note:"));
        list.append(el("dd", { class: "trace-line line-" + (line.label || "note") }, line.text));
      }
      block.append(list);
      body.append(block);
    }
    const details = el("details", {}, el("summary", {}, "As nb_tape_trace_backward prints it"));
    details.append(el("pre", { class: "trace-text" }, traceText(step)));
    body.append(details);
    return `Backward ${pos.step + 1} of ${backward.steps.length}: ${step.header}`;
  }

  function showDone(body) {
    body.append(el("p", {}, "The sweep is over. gradients of the leaves that require one:"));
    for (const leaf of backward.leaf_grads) {
      const row = traceLine("    " + leaf.text, "leaf-grad");
      row.append(inspectButton(leaf.tensor));
      body.append(row);
    }
    return "Done: every gradient has arrived";
  }

  function updateStep(pos) {
    const body = document.getElementById("step-body");
    body.replaceChildren();
    const show = { start: showStart, forward: showForward, backward: showBackward, done: showDone };
    document.getElementById("step-title").textContent = show[pos.kind](body, pos);
  }

  /* ---- heat maps -------------------------------------------------------- */

  /* Blue for negative, red for positive, white at 0, as strong as |v| / max|v|. */
  function colour(v, scale) {
    if (v === null || scale === 0) return "#ffffff";
    const a = Math.min(Math.abs(v) / scale, 1);
    const fade = (c) => Math.round(255 - a * (255 - c));
    return v < 0 ? `rgb(${fade(33)}, ${fade(102)}, ${fade(172)})` : `rgb(${fade(178)}, ${fade(24)}, ${fade(43)})`;
  }

  function heatmap(t, values, stats, what) {
    const wrap = el("div");
    const cols = Math.min(t.shape.length ? t.shape[t.shape.length - 1] : 1, 32);
    const scale = stats && "min" in stats ? Math.max(Math.abs(stats.min), Math.abs(stats.max)) : 0;
    const dense = values.length > 64;
    const table = el("table", { class: "heatmap" + (dense ? " dense" : "") });
    table.append(el("caption", {}, what));
    for (let r = 0; r * cols < values.length; r++) {
      const row = el("tr");
      for (let c = 0; c < cols && r * cols + c < values.length; c++) {
        const v = values[r * cols + c];
        const cell = el("td", { title: `[${r * cols + c}] = ${v}`, style: `background: ${colour(v, scale)}` },
                        dense ? "" : short(v));
        if (!dense && v !== null && Math.abs(v) > 0.6 * scale) cell.style.color = "#fff";
        row.append(cell);
      }
      table.append(row);
    }
    if (stats && "min" in stats)
      wrap.append(el("p", { class: "summary" }, `min ${short(stats.min)}, max ${short(stats.max)}, ` +
        `mean ${short(stats.mean)}` + (t.size > values.length
          ? ` over all ${t.size} values; the first ${values.length} are drawn` : "") +
        (t.shape.length && t.shape[t.shape.length - 1] > 32 ? ", 32 to a row" : "")));
    wrap.append(table);
    return wrap;
  }

  function inspect(id) {
    selected = id;
    const t = tensors[id];
    const pos = positions[position];
    document.getElementById("inspector-title").textContent =
      `Heat map: ${t.name} ${t.shape_text} ${t.dtype} (${t.kind})`;
    const body = document.getElementById("inspector-body");
    body.replaceChildren();
    if (!computed(t, pos)) {
      body.append(el("p", {}, "Not computed yet at this step."));
    } else {
      body.append(traceLine("values: " + t.values_text));
      body.append(heatmap(t, t.values, t.stats, "values of " + t.name));
    }
    if (gradShown(t, pos)) {
      body.append(traceLine(`gradient: dL/d(${t.name}) = ${t.grad_text}`, "grad-text"));
      body.append(heatmap(t, t.grad, t.grad_stats, `dL/d(${t.name}), after the whole sweep`));
    } else if (t.grad) {
      body.append(el("p", {}, "Its gradient shows once the backward sweep has reached it."));
    }
    body.append(el("p", { class: "summary" }, "Blue is negative, red positive, white 0; each cell's number is in it (or in its tooltip)."));
    updateGraph(pos);
  }

  /* ---- stepping ----------------------------------------------------------- */

  const range = document.getElementById("position");
  range.max = String(positions.length - 1);

  function go(to) {
    position = Math.max(0, Math.min(positions.length - 1, to));
    const pos = positions[position];
    range.value = String(position);
    range.setAttribute("aria-valuetext", `step ${position} of ${positions.length - 1}: ${pos.kind}`);
    document.getElementById("counter").textContent =
      `${position} / ${positions.length - 1} (${pos.kind === "done" ? "end" : pos.kind})`;
    document.getElementById("prev").disabled = position === 0;
    document.getElementById("first").disabled = position === 0;
    document.getElementById("next").disabled = position === positions.length - 1;
    document.getElementById("last").disabled = position === positions.length - 1;
    updateStep(pos);
    if (selected !== null) inspect(selected);
    else updateGraph(pos);
  }

  document.getElementById("first").addEventListener("click", () => go(0));
  document.getElementById("prev").addEventListener("click", () => go(position - 1));
  document.getElementById("next").addEventListener("click", () => go(position + 1));
  document.getElementById("last").addEventListener("click", () => go(positions.length - 1));
  range.addEventListener("input", () => go(Number(range.value)));
  document.addEventListener("keydown", (event) => {
    if (event.target === range || event.altKey || event.ctrlKey || event.metaKey) return;
    const moves = { ArrowRight: 1, ArrowLeft: -1 };
    if (event.key in moves) go(position + moves[event.key]);
    else if (event.key === "Home") go(0);
    else if (event.key === "End") go(positions.length - 1);
    else return;
    event.preventDefault();
  });

  /* "page.html#step=12" opens at that step, "#step=12&show=W1" with W1's
   * heat map too (for links and screenshots). */
  function openFromHash() {
    const match = /^#step=(\d+)(?:&show=(.+))?$/.exec(window.location.hash);
    go(match ? Number(match[1]) : 0);
    const name = match && match[2] ? decodeURIComponent(match[2]) : null;
    const tensor = tensors.find((t) => t.name === name);
    if (tensor) inspect(tensor.id);
  }

  drawGraph();
  openFromHash();
})();
