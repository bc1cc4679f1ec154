// 更正成员: the members of a household file corrected on the phone (a name, a phone, an ID number, a member who
// moved out or one the visits missed), with the reason, sent by the outbox as PATCH /api/v1/households/{id}.
// ID numbers come masked: one left as it is goes back masked and the server keeps the whole number it holds; 重新填写
// clears it for the full number to be typed.
import { get } from "../db.js";
import { enqueue } from "../outbox.js";
import { h, mount, toast, uuid } from "../ui.js";

export async function show(id) {
  const household = await get("households", id);
  if (!household) return mount(h("p.muted", "本机没有该户的档案。"), h("a.btn.ghost", { href: "#/households" }, "返回"));
  const rows = (household.members || []).map((m) => memberRow(m, false));
  const list = h("div", rows.map((r) => r.el));
  const reason = h("textarea", { name: "reason", rows: 2, maxLength: 500, placeholder: "如：户主口述，电话已更换" });
  const error = h("p.err", { role: "alert" });
  const save = async (e) => {
    e.preventDefault();
    if (!reason.value.trim()) return (error.textContent = "请写明更正的原因");
    const members = rows.map((r) => r.body()).filter(Boolean);
    if (!members.length) return (error.textContent = "没有要更正的成员");
    if (members.some((m) => !m.remove && m.name === "")) return (error.textContent = "请填写成员姓名");
    await enqueue("correction", uuid(), { household: id, body: { reason: reason.value.trim(), members },
      label: `更正成员：${household.head || ""}` });
    toast("更正已保存，将自动发送");
    location.hash = `#/household/${id}`;
  };
  mount(h("a.btn.ghost", { href: `#/household/${id}` }, "返回"), h("h1", `更正成员：${household.head || ""}`),
    h("form", { onsubmit: save }, list,
      h("button.ghost", { type: "button", onclick: () => { const r = memberRow({ id: uuid() }, true); rows.push(r); list.append(r.el); } },
        "添加成员"),
      h("div.field", h("label.q.req", "更正原因"), reason), error, h("button.wide", { type: "submit" }, "保存更正")));
}

// One member's inputs, and the row it sends: null when nothing of it changed.
function memberRow(m, added) {
  const name = h("input", { type: "text", name: "name", maxLength: 50, value: m.name || "" });
  const phone = h("input", { type: "text", name: "phone", inputmode: "tel", maxLength: 20, value: m.phone || "" });
  let number = m.id_number || "";
  const typed = h("input", { type: "text", name: "id_number", maxLength: 18, placeholder: "完整身份证号", value: "" });
  const masked = number.includes("*");
  const numberBox = masked
    ? h("div.row", { dataset: { masked: "" } }, h("span.grow", number), h("button.ghost", { type: "button", onclick: () => {
      number = ""; numberBox.replaceWith(typed); typed.focus();
    } }, "重新填写"))
    : typed;
  if (!masked) typed.value = number;
  const remove = h("input", { type: "checkbox", name: "remove" });
  const el = h("div.card", { dataset: { member: m.id } },
    h("div.field", h("label.q.req", "姓名"), name),
    h("div.field", h("label.q", "身份证号"), numberBox),
    h("div.field", h("label.q", "联系电话"), phone),
    added ? null : h("label", remove, " 已迁出或登记有误（移除）"));
  const body = () => {
    if (remove.checked) return { id: m.id, remove: true };
    const idNumber = typed.isConnected ? typed.value.trim() : number;
    const row = { id: m.id, name: name.value.trim(), phone: phone.value.trim() || null, id_number: idNumber || null };
    const same = !added && row.name === (m.name || "") && row.phone === (m.phone || null) && row.id_number === (m.id_number || null);
    return same ? null : row;
  };
  return { el, body };
}
