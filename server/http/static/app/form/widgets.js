// The widgets of the UI hints, each an element that reads and writes one answer through `io` ({get, set}).
import { get, put } from "../db.js";
import { here, sha256, shrink } from "../photo.js";
import { h, toast } from "../ui.js";

export function widgetOf(node, hint) {
  if (hint?.widget) return hint.widget;
  if (node.type === "boolean") return "radio";
  if (node.enum || node.oneOf) return (node.enum || node.oneOf).length > 6 ? "select" : "radio";
  if (node.type === "array" && node.items?.enum) return "checkboxes";
  if (node.format === "sha256" || node.items?.format === "sha256") return "photo";
  if (node.format === "date") return "date";
  if (node.format === "date-time") return "datetime";
  if (node.format === "time") return "time";
  if (node.type === "number" || node.type === "integer") return "number";
  if (node.type === "string") return (node.maxLength || 0) > 200 ? "textarea" : "text";
  return null;
}

export function choicesOf(node, hint) {
  if (node.type === "boolean") return [[true, "是"], [false, "否"]];
  if (node.oneOf) return node.oneOf.map((o) => [o.const, hint?.choices?.[o.const] ?? o.title ?? String(o.const)]);
  const values = node.enum || node.items?.enum || [];
  return values.map((v) => [v, hint?.choices?.[v] ?? String(v)]);
}

const pad = (n) => String(n).padStart(2, "0");
function offset(d) {
  const m = -d.getTimezoneOffset();
  return `${m >= 0 ? "+" : "-"}${pad(Math.floor(Math.abs(m) / 60))}:${pad(Math.abs(m) % 60)}`;
}
export const rfc3339 = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${offset(d)}`;
const localInput = (iso) => { if (!iso) return ""; const d = new Date(iso); return rfc3339(d).slice(0, 16); };

export function render(kind, node, hint, io, name) {
  const value = io.get();
  switch (kind) {
    case "textarea":
      return h("textarea", { name, value: value ?? "", placeholder: hint?.placeholder, oninput: (e) => io.set(e.target.value) });
    case "number":
      return h("input", { type: "number", name, inputmode: "decimal", step: node.type === "integer" ? "1" : "any", value: value ?? "",
        oninput: (e) => io.set(e.target.value === "" ? undefined : Number(e.target.value)) });
    case "radio":
      return h("div.choices", choicesOf(node, hint).map(([v, label]) => h("label",
        h("input", { type: "radio", name, value: String(v), checked: value === v, onchange: () => io.set(v) }), label)));
    case "select":
      return h("select", { name, onchange: (e) => io.set(choicesOf(node, hint)[e.target.selectedIndex - 1]?.[0]) },
        h("option", { value: "" }, "请选择"),
        choicesOf(node, hint).map(([v, label]) => h("option", { value: String(v), selected: value === v }, label)));
    case "checkboxes": {
      const chosen = new Set(value || []);
      return h("div.choices", choicesOf(node, hint).map(([v, label]) => h("label",
        h("input", { type: "checkbox", name, value: String(v), checked: chosen.has(v), onchange: (e) => {
          if (e.target.checked) chosen.add(v); else chosen.delete(v);
          io.set(choicesOf(node, hint).map(([c]) => c).filter((c) => chosen.has(c)));
        } }), label)));
    }
    case "date":
      return h("input", { type: "date", name, value: value ?? "", onchange: (e) => io.set(e.target.value) });
    case "datetime":
      return h("input", { type: "datetime-local", name, value: localInput(value),
        onchange: (e) => io.set(e.target.value ? rfc3339(new Date(e.target.value)) : undefined) });
    case "time":
      return h("input", { type: "time", name, value: (value || "").slice(0, 5),
        onchange: (e) => io.set(e.target.value ? `${e.target.value}:00${offset(new Date())}` : undefined) });
    case "photo": return photo(node, io, name);
    case "signature": return signature(io, name);
    case "location": return location(io);
    default:
      if (node.format === "cn-id-number" && typeof value === "string" && value.includes("*")) return masked(value, io, name);
      return h("input", { type: "text", name, value: value ?? "", placeholder: hint?.placeholder, oninput: (e) => io.set(e.target.value) });
  }
}

// A masked ID number (a returned submission corrected from the server's reply): left as it is, the server keeps the
// whole number it holds; the worker retypes it in full only to change it.
function masked(value, io, name) {
  const box = h("div", { dataset: { masked: "" } }, h("div.row", h("span.grow", value), h("button.ghost", { type: "button", onclick: () => {
    io.set(undefined);
    const input = h("input", { type: "text", name, placeholder: "请输入完整身份证号", oninput: (e) => io.set(e.target.value) });
    box.replaceWith(input);
    input.focus();
  } }, "重新填写")), h("p.help", "号码不变时无需改动，服务器按原号码保存"));
  return box;
}

// One photo (a string answer) or several (an array): each shrunk, hashed and kept in IndexedDB until sent.
function photo(node, io, name) {
  const many = node.type === "array";
  const list = () => (many ? io.get() || [] : io.get() ? [io.get()] : []);
  const thumbs = h("div.thumbs");
  const draw = async () => {
    thumbs.replaceChildren(...await Promise.all(list().map(async (sha) => {
      const blob = await get("blobs", sha);
      return h("figure", blob ? h("img", { src: URL.createObjectURL(blob), alt: "照片" }) : h("span.muted", "照片"),
        h("button.ghost", { type: "button", onclick: () => { io.set(many ? list().filter((s) => s !== sha) : undefined); draw(); } }, "删除"));
    })));
  };
  const input = h("input", { type: "file", name, accept: "image/*", capture: "environment", multiple: many, hidden: true,
    onchange: async (e) => {
      for (const file of e.target.files) {
        try {
          const small = await shrink(file);
          const sha = await sha256(small);
          await put("blobs", small, sha);
          io.set(many ? [...new Set([...list(), sha])] : sha);
        } catch {
          toast("无法读取这张照片，请重拍");
        }
      }
      input.value = "";
      draw();
    } });
  draw();
  return h("div", input, h("button.ghost", { type: "button", onclick: () => input.click() }, many ? "拍照或选择照片" : "拍照"), thumbs);
}

function signature(io, name) {
  const canvas = h("canvas.sign", { width: 600, height: 300 });
  const ctx = canvas.getContext("2d");
  const status = h("span.muted", io.get() ? " 已签名" : "");
  let drawing = false;
  const at = (e) => { const r = canvas.getBoundingClientRect(); return [(e.clientX - r.left) * 600 / r.width, (e.clientY - r.top) * 300 / r.height]; };
  canvas.addEventListener("pointerdown", (e) => { drawing = true; ctx.beginPath(); ctx.moveTo(...at(e)); });
  canvas.addEventListener("pointermove", (e) => { if (drawing) { ctx.lineWidth = 3; ctx.lineTo(...at(e)); ctx.stroke(); } });
  const end = async () => {
    if (!drawing) return;
    drawing = false;
    const blob = await new Promise((r) => canvas.toBlob(r, "image/png"));
    const sha = await sha256(blob);
    await put("blobs", blob, sha);
    io.set(sha);
    status.textContent = " 已签名";  // kept as a PNG, sent as the question's attachment
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointerleave", end);
  return h("div", { "data-name": name }, canvas, h("button.ghost", { type: "button", onclick: () => {
    ctx.clearRect(0, 0, 600, 300); io.set(undefined); status.textContent = "";
  } }, "重签"), status);
}

function location(io) {
  const status = h("span.muted", io.get() ? `已定位（精度 ${Math.round(io.get().accuracy ?? 0)} 米）` : "未定位");
  return h("div.row", h("button.ghost", { type: "button", onclick: async () => {
    status.textContent = "正在定位…";
    const p = await here();
    if (p) { io.set(p); status.textContent = `已定位（精度 ${Math.round(p.accuracy)} 米）`; }
    else status.textContent = "无法定位：请允许浏览器使用位置，或到开阔处再试";
  } }, "获取定位"), status);
}
