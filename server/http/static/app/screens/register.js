// 登记新户: a household met in the field, registered offline under an id the phone makes, sent by the outbox.
import { all, get, put } from "../db.js";
import { enqueue } from "../outbox.js";
import { here } from "../photo.js";
import { h, mount, uuid } from "../ui.js";

export async function show() {
  const communities = await knownCommunities();
  const f = {
    head: h("input", { type: "text", name: "head", maxlength: 50 }),
    address: h("input", { type: "text", name: "address", maxlength: 200 }),
    phone: h("input", { type: "text", name: "phone", inputmode: "tel", maxlength: 20 }),
    community: h("select", { name: "community" }, communities.map(([id, name]) => h("option", { value: id }, name))),
  };
  const error = h("p.err", { role: "alert" });
  const save = async (e) => {
    e.preventDefault();
    if (!f.head.value.trim() || !f.address.value.trim() || !f.community.value) {
      error.textContent = "请填写户主姓名、地址和所属社区";
      return;
    }
    const id = uuid();
    const position = await here();
    const body = { community: f.community.value, address: f.address.value.trim(), head: f.head.value.trim(),
      phone: f.phone.value.trim() || null, location: position ? { lat: position.latitude, lon: position.longitude } : null };
    await put("households", { id, ...body, members: [], situation: {}, pending: true, pinyin: [] });
    await enqueue("household", id, { body, label: `登记新户：${body.head}` });
    location.hash = `#/household/${id}`;
  };
  mount(h("h1", "登记新户"), h("form.card", { onsubmit: save },
    h("div.field", h("label.q.req", "户主姓名"), f.head),
    h("div.field", h("label.q.req", "地址"), f.address),
    h("div.field", h("label.q", "联系电话"), f.phone),
    h("div.field", h("label.q.req", "所属社区（村）"), f.community),
    h("p.muted", "没有网络也可以登记，联网后自动上报。"), error, h("button.wide", { type: "submit" }, "保存")));
}

// The communities the worker may register in: those the login listed, and those of synced households.
async function knownCommunities() {
  const found = new Map();
  for (const a of (await get("kv", "areas")) || []) if (a.level === "community") found.set(a.id, a.name);
  for (const x of await all("households")) if (!found.has(x.community)) found.set(x.community, x.community);
  return [...found];
}
