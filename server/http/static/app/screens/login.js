// Log in once; the token and the user are kept in IndexedDB so the app works offline afterwards.
import { call } from "../api.js";
import { put } from "../db.js";
import { h, mount } from "../ui.js";

// Supervisors, the bureau and admins on a wide screen work in the console (/console/), unless they came from it
// asking for the field app (/app/?field).
const CONSOLE_ROLES = ["admin", "bureau", "supervisor"];
export const CONSOLE_TOKEN = "doorstep.console.token";
export const wide = () => window.innerWidth >= 1000 && !new URLSearchParams(location.search).has("field");
const toConsole = (role) => CONSOLE_ROLES.includes(role) && wide();

export function show() {
  if (localStorage.getItem(CONSOLE_TOKEN) && wide()) return location.replace("/console/");  // logged in there

  const error = h("p.err", { role: "alert" });
  const username = h("input", { type: "text", name: "username", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const submit = h("button.wide", { type: "submit" }, "登录");
  const form = h("form.card", { onsubmit: async (e) => {
    e.preventDefault();
    submit.disabled = true;
    error.textContent = "";
    try {
      const { data } = await call("POST", "/auth/token", { username: username.value.trim(), password: password.value });
      if (toConsole(data.user.role)) {  // a station PC: the console is their place; the token goes with them
        localStorage.setItem(CONSOLE_TOKEN, data.access_token);
        location.assign("/console/");
        return;
      }
      await put("kv", data.access_token, "token");
      await put("kv", data.user, "user");
      if (data.user.role === "provider") {  // a provider's user has their orders, no households or areas
        location.hash = "#/jobs";
        window.dispatchEvent(new Event("doorstep:login"));
        return;
      }
      try {  // the names of the worker's communities, to register a household offline
        await put("kv", (await call("GET", "/areas")).data.items, "areas");
      } catch { /* the list of communities is then learnt from synced households */ }
      location.hash = "#/households";
      window.dispatchEvent(new Event("doorstep:login"));
    } catch (err) {
      error.textContent = err.status === 401 ? "用户名或密码不正确" : err.message;
    } finally {
      submit.disabled = false;
    }
  } },
  h("div.field", h("label.q", "用户名"), username),
  h("div.field", h("label.q", "密码"), password), error, submit);
  mount(h("h1", "登录"), form, h("p.muted", "登录后，走访对象和表单会保存在手机上，没有网络也能填写。"),
    h("p.muted", "督导、民政局和管理员在站点电脑上请使用", h("a", { href: "/console/" }, "站点管理台"), "。"));
}
