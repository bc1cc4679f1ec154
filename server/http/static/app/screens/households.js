// 走访对象: the worker's households, searched on the phone.
import { all } from "../db.js";
import { matches } from "../search.js";
import { h, mount } from "../ui.js";

const SHOWN = 50;

export async function show() {
  const households = (await all("households")).sort((a, b) => (a.head || "").localeCompare(b.head || "", "zh-CN"));
  const list = h("div");
  const input = h("input", { type: "search", placeholder: "姓名、拼音首字母、地址或电话", "aria-label": "搜索走访对象",
    oninput: () => render(input.value) });
  const render = (q) => {
    const found = households.filter((x) => matches(x, q));
    list.replaceChildren(
      h("p.muted", `共 ${found.length} 户${found.length > SHOWN ? `，显示前 ${SHOWN} 户` : ""}`),
      ...found.slice(0, SHOWN).map((x) => h("a.card", { href: `#/household/${x.id}` },
        h("div.row", h("b.grow", x.head || "（未填户主）"), x.pending ? h("span.tag.pending", "待发送") : null),
        h("div.muted", x.address || ""))));
  };
  render("");
  mount(h("div.row", h("h1.grow", "走访对象"), h("a.btn.ghost", { href: "#/household/new" }, "登记新户")), input,
    h("p"), households.length ? list : h("p.muted", "还没有同步到走访对象。联网后会自动同步。"));
}
