// The designer's view of a form definition {title, schema, ui}: its questions as a tree (with their schema node,
// UI hint, template and JSON pointers), the question kinds the editor offers, and the bindings by position.
// Every edit is made on the definition itself, so the raw JSON and the structured editor never disagree.

export const esc = (s) => s.replaceAll("~", "~0").replaceAll("/", "~1");
const clone = (v) => structuredClone(v);

// Question kinds: what the editor offers; each makes a schema node and names its widget.
const CHOICES = () => ["a", "b"];
export const KINDS = {
  text: { label: "单行文字", node: () => ({ type: "string", maxLength: 200 }), widget: "text" },
  textarea: { label: "多行文字", node: () => ({ type: "string", maxLength: 2000 }), widget: "textarea" },
  number: { label: "数字", node: () => ({ type: "number" }), widget: "number" },
  integer: { label: "整数", node: () => ({ type: "integer" }), widget: "number" },
  radio: { label: "单选", node: () => ({ type: "string", enum: CHOICES() }), widget: "radio", choices: true },
  select: { label: "下拉单选", node: () => ({ type: "string", enum: CHOICES() }), widget: "select", choices: true },
  checkboxes: { label: "多选", node: () => ({ type: "array", uniqueItems: true, items: { type: "string", enum: CHOICES() } }),
    widget: "checkboxes", choices: true },
  boolean: { label: "是/否", node: () => ({ type: "boolean" }), widget: "radio" },
  date: { label: "日期", node: () => ({ type: "string", format: "date" }), widget: "date" },
  datetime: { label: "日期时间", node: () => ({ type: "string", format: "date-time" }), widget: "datetime" },
  time: { label: "时间", node: () => ({ type: "string", format: "time" }), widget: "time" },
  photo: { label: "照片（一张）", node: () => ({ type: "string", format: "sha256" }), widget: "photo" },
  photos: { label: "照片（多张）", node: () => ({ type: "array", maxItems: 9, items: { type: "string", format: "sha256" } }), widget: "photo" },
  signature: { label: "签名", node: () => ({ type: "string", format: "sha256" }), widget: "signature" },
  location: { label: "定位", node: () => ({ type: "object", required: ["latitude", "longitude"], additionalProperties: false,
    properties: { latitude: { type: "number", title: "纬度", minimum: -90, maximum: 90 },
      longitude: { type: "number", title: "经度", minimum: -180, maximum: 180 },
      accuracy: { type: "number", title: "定位精度（米）", minimum: 0 } } }), widget: "location" },
  group: { label: "重复组（多行）", node: () => ({ type: "array", items: { type: "object", title: "一行", properties: {}, required: [] } }) },
};

export function kindOf(node, hint) {
  const w = hint?.widget;
  if (node.type === "array" && node.items?.type === "object") return "group";
  if (w === "photo") return node.type === "array" ? "photos" : "photo";
  if (w === "signature" || w === "location") return w;
  if (node.type === "object") return "location";
  if (node.type === "boolean") return "boolean";
  if (node.type === "array") return "checkboxes";
  if (node.enum || node.oneOf) return w === "select" || (!w && (node.enum || node.oneOf).length > 6) ? "select" : "radio";
  if (node.format === "date") return "date";
  if (node.format === "date-time") return "datetime";
  if (node.format === "time") return "time";
  if (node.type === "integer") return "integer";
  if (node.type === "number") return "number";
  return w === "textarea" || (node.maxLength || 0) > 200 ? "textarea" : "text";
}

// The questions of an object schema, in order: {name, node, parent, template, pointer, hintKey, rows (in a group),
// children (a group's row questions)}. `pointer` is where the server's refusals about it point in the schema.
export function questionsOf(def, node = def.schema, template = "", pointer = "/schema", inGroup = null) {
  return Object.entries(node.properties || {}).map(([name, child]) => {
    const q = { name, node: child, parent: node, template: `${template}/${esc(name)}`,
      pointer: `${pointer}/properties/${esc(name)}`, group: inGroup };
    q.hintKey = `/ui/questions/${esc(q.template)}`;
    q.hint = def.ui?.questions?.[q.template] || {};
    q.kind = kindOf(child, q.hint);
    if (q.kind === "group") q.children = questionsOf(def, child.items, `${q.template}/*`, `${q.pointer}/items`, q);
    return q;
  });
}

export function allQuestions(def) {
  const out = [];
  const walk = (qs) => qs.forEach((q) => { out.push(q); if (q.children) walk(q.children); });
  walk(questionsOf(def));
  return out;
}

export function hintOf(def, template, create = true) {
  def.ui ||= {};
  def.ui.questions ||= {};
  if (!def.ui.questions[template] && create) def.ui.questions[template] = {};
  return def.ui.questions[template];
}

export function tidyHint(def, template) {
  const hint = def.ui?.questions?.[template];
  if (hint && !Object.keys(hint).length) delete def.ui.questions[template];
}

export const isRequired = (q) => (q.parent.required || []).includes(q.name);
export function setRequired(q, on) {
  const list = (q.parent.required || []).filter((n) => n !== q.name);
  if (on) list.push(q.name);
  if (list.length) q.parent.required = list; else delete q.parent.required;
}

// Choices as [value, label]: from enum (labels in the hints) or oneOf (labels as titles, hints winning).
export function choicesOf(q) {
  const node = q.node.type === "array" ? q.node.items || {} : q.node;
  if (node.oneOf) return node.oneOf.map((o) => [o.const, q.hint.choices?.[String(o.const)] ?? o.title ?? ""]);
  return (node.enum || []).map((v) => [v, q.hint.choices?.[typeof v === "string" ? v : JSON.stringify(v)] ?? ""]);
}

export function setChoices(def, q, pairs) {
  const node = q.node.type === "array" ? (q.node.items ||= { type: "string" }) : q.node;
  delete node.oneOf;
  node.enum = pairs.map(([v]) => v);
  const labels = Object.fromEntries(pairs.filter(([, l]) => l).map(([v, l]) => [typeof v === "string" ? v : JSON.stringify(v), l]));
  const hint = hintOf(def, q.template);
  if (Object.keys(labels).length) hint.choices = labels; else delete hint.choices;
  tidyHint(def, q.template);
}

// A new kind for a question: a fresh node of that kind that keeps the title and the x- bindings where they fit.
export function setKind(def, q, kind) {
  const node = KINDS[kind].node();
  node.title = q.node.title;
  for (const [k, v] of Object.entries(q.node)) if (k.startsWith("x-") && kind !== "group") node[k] = v;
  if (KINDS[kind].choices && KINDS[q.kind]?.choices) {
    const old = choicesOf(q).map(([v]) => v);
    if (node.type === "array") node.items.enum = old; else node.enum = old;
  }
  q.parent.properties[q.name] = node;
  const hint = hintOf(def, q.template);
  if (KINDS[kind].widget) hint.widget = KINDS[kind].widget; else delete hint.widget;
  if (!KINDS[kind].choices && kind !== "boolean") delete hint.choices;
  tidyHint(def, q.template);
}

// The templates naming a question or anything below it, and every string of the hints equal to one, renamed.
function renameIn(value, from, to) {
  const swap = (s) => (s === from || s.startsWith(`${from}/`) ? to + s.slice(from.length) : s);
  if (typeof value === "string") return swap(value);
  if (Array.isArray(value)) return value.map((v) => renameIn(v, from, to));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [swap(k), renameIn(v, from, to)]));
  }
  return value;
}

export function rename(def, q, name) {
  const entries = Object.entries(q.parent.properties).map(([k, v]) => [k === q.name ? name : k, v]);
  q.parent.properties = Object.fromEntries(entries);
  if (q.parent.required) q.parent.required = q.parent.required.map((n) => (n === q.name ? name : n));
  const to = `${q.template.slice(0, q.template.length - esc(q.name).length)}${esc(name)}`;
  def.ui = renameIn(def.ui || {}, q.template, to);
}

export function move(def, q, step) {
  const keys = Object.keys(q.parent.properties);
  const i = keys.indexOf(q.name);
  const j = i + step;
  if (j < 0 || j >= keys.length) return;
  [keys[i], keys[j]] = [keys[j], keys[i]];
  q.parent.properties = Object.fromEntries(keys.map((k) => [k, q.parent.properties[k]]));
  sortPages(def);
}

export function remove(def, q) {
  delete q.parent.properties[q.name];
  setRequired(q, false);
  for (const key of Object.keys(def.ui?.questions || {})) {
    if (key === q.template || key.startsWith(`${q.template}/`)) delete def.ui.questions[key];
  }
  for (const page of def.ui?.pages || []) page.questions = page.questions.filter((t) => t !== q.template);
  if (def.ui?.order) def.ui.order = def.ui.order.filter((t) => t !== q.template);
}

export function add(def, parent, template, kind = "text") {
  let n = Object.keys(parent.properties ||= {}).length + 1;
  while (`q${n}` in parent.properties) n++;
  const name = `q${n}`;
  parent.properties[name] = { ...KINDS[kind].node(), title: `新题目 ${n}` };
  const t = `${template}/${name}`;
  if (KINDS[kind].widget) hintOf(def, t).widget = KINDS[kind].widget;
  if (!template && def.ui?.pages?.length) def.ui.pages.at(-1).questions.push(t);
  if (!template && def.ui?.order) def.ui.order.push(t);
  return name;
}

// Pages list the top-level questions in the schema's order.
export function sortPages(def) {
  const order = Object.keys(def.schema.properties || {}).map((k) => `/${esc(k)}`);
  for (const page of def.ui?.pages || []) page.questions.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  if (def.ui?.order) def.ui.order.sort((a, b) => order.indexOf(a) - order.indexOf(b));
}

export function pageIndexOf(def, template) {
  return (def.ui?.pages || []).findIndex((p) => p.questions.includes(template));
}

export function setPage(def, template, index) {
  for (const page of def.ui.pages) page.questions = page.questions.filter((t) => t !== template);
  if (index >= 0) def.ui.pages[index].questions.push(template);
  sortPages(def);
}

// Bindings to the household file, by where the question sits (docs/forms.md, forms/bindings.py).
export const SITUATION = { income_source: "经济来源", family_structure: "家庭结构", health: "健康状况", care: "照料情况",
  assistance_type: "救助类型", address: "住址", phone: "联系电话", head_name: "户主姓名", housing: "住房情况",
  household_size: "家庭人口数", monthly_income: "家庭月收入", guardianship: "监护情况", disability: "残疾情况",
  risk_level: "风险等级", eligibility: "低保标准核对" };
export const MEMBER_FIELDS = { id: "成员编号", name: "姓名", relation: "与户主关系", gender: "性别", birth_date: "出生日期",
  id_number: "身份证号", phone: "联系电话", tags: "标签", health: "健康状况", disability_type: "残疾类别",
  disability_level: "残疾等级", school: "就读学校", occupation: "职业", monthly_income: "月收入", guardian: "监护人" };
export const MEMBER_TAGS = { elderly: "老年人", living_alone: "独居", empty_nest: "空巢", left_behind: "留守", child: "儿童",
  orphan: "孤儿", de_facto_unsupported: "事实无人抚养", disability: "残疾", mental_disorder: "精神障碍",
  subsistence_allowance: "低保", extreme_hardship: "特困", low_income: "低收入", serious_illness: "大病", relocated: "易地搬迁" };
export const NEED_FIELDS = { item: "服务项目", urgency: "紧急程度", description: "需求描述", member: "相关成员" };
const KEYWORDS = ["x-situation", "x-members", "x-member", "x-member-tag", "x-needs", "x-need", "x-need-item", "x-need-items"];

// The bindings a question may take where it is: [{keyword, value, label, free}] (free: the value is typed).
export function bindingOptions(q) {
  if (q.kind === "group") return [{ keyword: "x-members", value: true, label: "每行是户的一名成员" },
    { keyword: "x-needs", value: true, label: "每行是一条需求" }];
  const rows = q.group?.node["x-members"] ? "members" : q.group?.node["x-needs"] ? "needs" : null;
  if (rows === "members") {
    return [...Object.entries(MEMBER_FIELDS).map(([v, l]) => ({ keyword: "x-member", value: v, label: `成员字段：${l}` })),
      ...(q.kind === "boolean" ? Object.entries(MEMBER_TAGS).map(([v, l]) => ({ keyword: "x-member-tag", value: v, label: `成员标签：${l}` })) : [])];
  }
  if (rows === "needs") return Object.entries(NEED_FIELDS).map(([v, l]) => ({ keyword: "x-need", value: v, label: `需求字段：${l}` }));
  if (q.group) return [];
  return [...Object.entries(SITUATION).map(([v, l]) => ({ keyword: "x-situation", value: v, label: `户情况：${l}` })),
    ...(q.kind === "boolean" ? [{ keyword: "x-need-item", value: "", label: "为“是”时提出需求（服务项目代号）", free: true }] : []),
    ...(q.kind === "checkboxes" ? [{ keyword: "x-need-items", value: true, label: "每个选中的服务项目代号提出一条需求" }] : [])];
}

export function bindingOf(node) {
  const keyword = KEYWORDS.find((k) => k in node);
  return keyword ? { keyword, value: node[keyword] } : null;
}

export function setBinding(node, keyword, value) {
  for (const k of KEYWORDS) delete node[k];
  if (keyword) node[keyword] = value;
}

export { clone };
