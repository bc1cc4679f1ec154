// The live preview of a draft, drawn by the field app's own renderer (/app/form/), as a worker's phone shows it:
// pages, widgets, show conditions, calculations and choice filters, answered here without sending anything.
import { pagesOf, paintQuestions } from "/app/form/page.js";
import { compute } from "/app/form/rules.js";
import { h } from "../ui.js";

export function preview(container) {
  const state = { page: 0, data: {}, def: null };
  const draw = () => {
    const def = state.def;
    try {
      const version = { title: def.title, schema: def.schema, ui: def.ui || {} };
      const pages = pagesOf(version);
      state.page = Math.min(state.page, pages.length - 1);
      compute(version.ui, state.data);
      const { body } = paintQuestions(version, pages[state.page].questions, state.data, { repaint: draw });
      container.replaceChildren(...[
        h("div.toolbar", h("b.grow", `预览：${def.title || ""}`),
          h("button", { type: "button", class: "ghost small", onclick: () => { state.data = {}; draw(); } }, "清空答案")),
        pages.length > 1 ? h("div.tabs", pages.map((p, i) => h("button", { type: "button", class: i === state.page ? "on" : "",
          onclick: () => { state.page = i; draw(); } }, p.title || `第 ${i + 1} 页`))) : null,
        pages[state.page].help ? h("p.muted", pages[state.page].help) : null,
        body].filter(Boolean));
    } catch (e) {
      container.replaceChildren(h("p.error", `预览无法显示：${e.message}。请检查题目或原始 JSON。`));
    }
  };
  let timer;
  return (def) => {  // draw again for this definition, a moment after the last edit
    state.def = def;
    clearTimeout(timer);
    timer = setTimeout(draw, 150);
  };
}
