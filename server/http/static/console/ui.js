// Small DOM helpers shared by the console's screens. Text is always set as text, never parsed as HTML.

// h("div", {class: "card", onclick, dataset: {id}}, child, …); "div.card.warn" also works as a tag.
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split(".");
  const el = document.createElement(name || "div");
  if (classes.length) el.className = classes.join(" ");
  if (attrs !== undefined && attrs !== null && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.classList.add(...String(v).split(/\s+/).filter(Boolean));
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else if (k === "value" && name === "textarea") el.value = v;
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// columns: [{label, value: row => text | Node}]; rows: any objects.
export function table(columns, rows, { empty = "暂无记录", rowAttrs } = {}) {
  return h("table", { class: "list" },
    h("thead", h("tr", columns.map((c) => h("th", c.label)))),
    h("tbody", rows.length ? rows.map((row) => h("tr", rowAttrs ? rowAttrs(row) : null,
      columns.map((c) => h("td", c.value(row) ?? "—"))))
      : h("tr", h("td.muted", { colSpan: columns.length }, empty))));
}

let toastTimer;
export function toast(text, kind = "ok") {
  document.querySelector(".toast")?.remove();
  const el = h("div", { class: `toast ${kind}`, role: "status" }, text);
  document.body.append(el);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.remove(), 4000);
}

// The server's refusal inside `container`: each `errors[].detail` next to the element whose data-pointer is its
// pointer (or, failing that, the nearest element of a pointer above it: /schema/properties/age/minimum lands at
// /schema/properties/age), and a summary on top with the errors that found no place.
export function showProblem(container, error) {
  for (const el of container.querySelectorAll(".problem-summary, .field-error")) el.remove();
  for (const el of container.querySelectorAll(".bad")) el.classList.remove("bad");
  if (!error) return;
  const errors = error.problem?.errors || [];
  const unplaced = [];
  for (const e of errors) {
    const target = placeOf(container, e.pointer || "");
    if (!target) { unplaced.push(e); continue; }
    target.classList.add("bad");
    target.append(h("div", { class: "error field-error", role: "alert" }, e.detail));
  }
  const summary = h("div", { class: "error problem-summary card", role: "alert" },
    h("b", error.message || "操作失败"),
    errors.length ? h("span", `（${errors.length} 处问题${unplaced.length < errors.length ? "，已标在相应位置" : ""}）`) : null,
    unplaced.length ? h("ul", unplaced.map((e) => h("li", e.pointer ? `${e.pointer}：${e.detail}` : e.detail))) : null);
  container.prepend(summary);
  container.querySelector(".bad")?.scrollIntoView({ block: "center" });
}

function placeOf(container, pointer) {
  let p = pointer;
  while (p) {
    const el = container.querySelector(`[data-pointer="${CSS.escape(p)}"]`);
    if (el) return el;
    p = p.slice(0, p.lastIndexOf("/"));
  }
  return null;
}

// A yes/no question in a modal dialog → Promise<boolean>.
export function confirmDialog(text, { ok = "确定", cancel = "取消" } = {}) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "confirm" }, h("p", text),
      h("div.toolbar", h("button", { type: "button", class: "ghost", onclick: () => dialog.close("no") }, cancel),
        h("button", { type: "button", onclick: () => dialog.close("yes") }, ok)));
    dialog.addEventListener("close", () => { dialog.remove(); resolve(dialog.returnValue === "yes"); });
    document.body.append(dialog);
    dialog.showModal();
  });
}

const pad = (n) => String(n).padStart(2, "0");
// An RFC 3339 time on this computer's clock: 2025-03-18 09:40.
export function formatTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
