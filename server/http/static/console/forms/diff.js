// Two versions of a form side by side, question by question: what was added, removed or changed between them.
import { h } from "../ui.js";
import { allQuestions, bindingOf, choicesOf, isRequired, KINDS } from "./model.js";

// What a question is, in words the designer reads: compared as a whole to tell whether it changed.
function summary(def, q) {
  const binding = bindingOf(q.node);
  return {
    题目: q.node.title || "",
    题型: KINDS[q.kind]?.label || q.kind,
    必填: isRequired(q) ? "是" : "否",
    选项: KINDS[q.kind]?.choices ? choicesOf(q).map(([v, l]) => (l ? `${v} ${l}` : String(v))).join("、") : "",
    显示条件: q.hint.show ? JSON.stringify(q.hint.show) : "",
    绑定: binding ? `${binding.keyword}: ${JSON.stringify(binding.value)}` : "",
    所在页: String((def.ui?.pages || []).findIndex((p) => p.questions.includes(q.template)) + 1 || ""),
    其他: JSON.stringify({ ...q.node, title: undefined, properties: undefined, items: q.kind === "group" ? undefined : q.node.items,
      enum: undefined, oneOf: undefined, required: undefined }),
  };
}

export function changes(left, right) {
  const a = new Map(allQuestions(left).map((q) => [q.template, summary(left, q)]));
  const b = new Map(allQuestions(right).map((q) => [q.template, summary(right, q)]));
  const templates = [...new Set([...a.keys(), ...b.keys()])];
  return templates.map((t) => {
    const before = a.get(t), after = b.get(t);
    const state = !before ? "added" : !after ? "removed"
      : JSON.stringify(before) === JSON.stringify(after) ? "same" : "changed";
    return { template: t, before, after, state };
  });
}

const LABELS = { added: "新增", removed: "删除", changed: "修改", same: "未变" };

export function sideBySide(left, right, leftLabel, rightLabel) {
  const rows = changes(left, right);
  const cell = (s, other) => (s ? h("dl.kv", Object.entries(s).filter(([k, v]) => v && k !== "其他" || (k === "其他" && other && v !== other[k]))
    .map(([k, v]) => [h("dt", k), h("dd", { class: other && other[k] !== v ? "changed" : "" }, v)])) : h("span.muted", "（无）"));
  const counts = Object.fromEntries(Object.keys(LABELS).map((k) => [k, rows.filter((r) => r.state === k).length]));
  return h("div", h("p", `新增 ${counts.added} 题，删除 ${counts.removed} 题，修改 ${counts.changed} 题，未变 ${counts.same} 题。`,
    left.title !== right.title ? ` 标题：「${left.title}」→「${right.title}」` : ""),
  h("table", { class: "list diff" }, h("thead", h("tr", h("th", "题目"), h("th", leftLabel), h("th", rightLabel))),
    h("tbody", rows.map((r) => h("tr", { class: r.state === "same" ? "" : "warn", dataset: { template: r.template, state: r.state } },
      h("td", h("code", r.template), " ", h("span", { class: `badge ${r.state === "same" ? "" : r.state === "removed" ? "bad" : "warn"}` }, LABELS[r.state])),
      h("td", { class: r.state === "removed" ? "removed" : "" }, cell(r.before, r.after)),
      h("td", { class: r.state === "added" ? "added" : "" }, cell(r.after, r.before)))))));
}
