// The console's shell: login, the left nav of the screens the user's role may use, and the hash router
// (#/<screen>?<query> → screens/<screen>.js, whose default export renders into a fresh main element).
import { api, ApiError, logout, setToken, token } from "./api.js";
import * as ui from "./ui.js";

const { h } = ui;

// Nav order; the actions of the permission table (GET /api/v1/permissions, server/core/permissions.py) that each
// screen needs: a role sees a screen when the table grants it every one of them, so the nav follows the table. The
// screens are the station's desk, read across the caller's areas: where a worker holds the plain reading action
// (household.read, need.read, ledger.read), the screen also needs the supervisor's view of it, and a worker or a
// provider, who have none of those, is sent to the field app.
export const SCREENS = [
  { name: "forms", label: "表单设计", needs: ["form.read_drafts"] },
  { name: "reviews", label: "审核", needs: ["submission.read", "submission.see_flags"] },
  { name: "households", label: "一户一档", needs: ["household.read", "household.archive"] },
  { name: "needs", label: "需求派单", needs: ["need.read", "report.needs"] },
  { name: "ledgers", label: "台账", needs: ["ledger.read", "visit_plan.overdue"] },
  { name: "reports", label: "报表", needs: ["report.needs"] },
  { name: "exports", label: "导出", needs: ["export.read"] },
  { name: "people", label: "人员与区域", needs: ["user.list"] },
  { name: "audit", label: "审计日志", needs: ["audit.read"] },
];

// The screens a role may use under the table `{items: [{action, roles}]}`; an action the table lacks grants nothing.
export function screensFor(role, permissionTable) {
  const granted = new Set(permissionTable.items.filter((a) => a.roles.includes(role)).map((a) => a.action));
  return SCREENS.filter((s) => s.needs.every((action) => granted.has(action)));
}
const ROLE_NAMES = { admin: "管理员", bureau: "民政局", supervisor: "督导", worker: "社工", provider: "服务机构" };
const shell = document.getElementById("shell");
let me = null;
let allowed = [];  // the screens of me's role, from the server's permission table
let rendering = 0;

function loginScreen(message) {
  const error = h("p", { class: "error", role: "alert" }, message || "");
  const username = h("input", { type: "text", name: "username", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit" }, "登录");
  const form = h("form", { class: "card login", onsubmit: async (e) => {
    e.preventDefault();
    submit.disabled = true;
    error.textContent = "";
    try {
      const reply = await api("/api/v1/auth/token", { method: "POST",
        body: { username: username.value.trim(), password: password.value } });
      setToken(reply.access_token);
      await start();
    } catch (err) {
      error.textContent = err.status === 401 ? "用户名或密码不正确" : err.message;
    } finally {
      submit.disabled = false;
    }
  } },
  h("h1", "Doorstep 站点管理台"),
  h("label", "用户名", username), h("label", "密码", password), error, submit,
  h("p.muted", "供督导、民政局和管理员使用。社工和服务机构请在手机上使用", h("a", { href: "/app/?field" }, "外勤应用"), "。"));
  ui.clear(shell).append(h("div.login-page", form));
  username.focus();
}

function frame() {
  const nav = h("nav", { id: "nav" }, allowed.map((s) => h("a", { href: `#/${s.name}`, dataset: { screen: s.name } }, s.label)));
  const header = h("header", { id: "bar" },
    h("span.brand", "Doorstep 站点管理台"),
    h("span.who", `${me.display_name || me.username}（${ROLE_NAMES[me.role] || me.role}）`),
    h("a", { href: "/app/?field", title: "手机上使用的外勤应用" }, "外勤应用"),
    h("button", { type: "button", class: "ghost small", onclick: leave }, "退出登录"));
  ui.clear(shell).append(header, h("div", { id: "body" }, nav, h("main", { id: "main" })));
}

async function leave() {
  me = null;
  allowed = [];
  rendering++;  // a screen still loading draws nothing more
  await logout();
  loginScreen();
}

function parse(hash) {
  const m = /^#\/([a-z_]+)(?:\?(.*))?$/.exec(hash || "");
  return m ? { name: m[1], params: new URLSearchParams(m[2] || "") } : null;
}

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function route() {
  if (!me) return;
  const target = parse(location.hash);
  if (!target) return navigate(`#/${allowed[0].name}`);
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("on", a.dataset.screen === target.name);
  // Each render gets a fresh main element: a slow screen left behind writes into a detached one, never over the next.
  const root = h("main", { id: "main" });
  document.getElementById("main").replaceWith(root);
  const mine = ++rendering;
  const screen = SCREENS.find((s) => s.name === target.name);
  if (!screen || !allowed.includes(screen)) {
    root.append(h("p.error", screen ? "您的角色不能使用这一页。" : "没有这一页。"));
    return;
  }
  document.title = `${screen.label} · Doorstep 站点管理台`;
  root.append(h("p.muted", "正在加载…"));
  try {
    const module = await import(`./screens/${screen.name}.js`);
    if (mine !== rendering) return;
    ui.clear(root);
    await module.default(root, { api, params: target.params, navigate, me, ui });
  } catch (e) {
    if (mine !== rendering) return;
    console.warn(e);
    root.querySelector(":scope > p.muted")?.remove();
    root.append(h("div.card.error", { role: "alert" }, e instanceof ApiError
      ? `「${screen.label}」加载失败：${e.message}`
      : `「${screen.label}」无法打开：页面程序加载失败，请刷新重试。`));
  }
}

async function start() {
  try {
    const [who, permissionTable] = await Promise.all([api("/api/v1/me"), api("/api/v1/permissions")]);
    me = who;
    allowed = screensFor(me.role, permissionTable);
  } catch (e) {
    me = null;
    return loginScreen(e.status === 401 ? "登录已过期，请重新登录" : e.message);
  }
  if (!allowed.length) {
    ui.clear(shell).append(h("div.login-page", h("div.card.login",
      h("h1", "Doorstep 站点管理台"),
      h("p", `管理台供督导、民政局和管理员使用；您的角色是「${ROLE_NAMES[me.role] || me.role}」。`),
      h("p", h("a", { href: "/app/?field" }, "打开外勤应用")),
      h("button", { type: "button", class: "ghost", onclick: leave }, "退出登录"))));
    return;
  }
  frame();
  route();
}

window.addEventListener("hashchange", route);
window.addEventListener("doorstep:unauthorized", async () => {
  if (!me) return;
  me = null;
  await logout();
  loginScreen("登录已过期，请重新登录");
});

if (token()) start();
else loginScreen();
