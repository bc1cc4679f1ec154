// 人员与区域: the users the caller may see with their roles and areas (disable or enable one), the area tree, the
// permission table in words (GET /api/v1/permissions), and the login throttles an admin may lift.
import { api } from '../api.js';
import { h, table, toast, showProblem, confirmDialog, formatTime } from '../ui.js';
import { LEVEL_NAMES, ROLE_NAMES, allows, areaNames, everyPage, myAreas } from './_common.js';

const TABS = { users: '用户', areas: '区域', permissions: '权限表', throttles: '登录限制' };

export default async function render(root, ctx) {
  const may = {
    users: await allows(ctx.me, 'user.list'), areas: true, permissions: true,
    throttles: await allows(ctx.me, 'login.lift_throttle'),
  };
  const wanted = ctx.params.get('tab');
  const tab = may[wanted] ? wanted : may.users ? 'users' : 'areas';
  root.append(h('h1', {}, '人员与区域'), h('nav', { class: 'tabs toolbar' }, ...Object.entries(TABS).filter(([k]) => may[k])
    .map(([k, label]) => h('a', { href: `#/people?tab=${k}`, class: k === tab ? 'button active' : 'button' }, label))));
  const section = h('section', { class: 'card' });
  root.append(section);
  await { users, areas, permissions, throttles }[tab](section, ctx);
}

async function users(section, ctx) {
  const [list, names, mayUpdate] = await Promise.all([everyPage('/api/v1/users'), areaNames(), allows(ctx.me, 'user.update')]);
  const toggle = (u) => async () => {
    const verb = u.is_active ? '停用' : '启用';
    if (!(await confirmDialog(`${verb}用户 ${u.display_name}（${u.username}）？${u.is_active ? '停用后其登录凭据立即失效。' : ''}`))) return;
    try {
      await api(`/api/v1/users/${u.id}`, { method: 'PATCH', body: { is_active: !u.is_active } });
      toast(`已${verb}`, 'ok');
      ctx.navigate(`#/people?tab=users&t=${Date.now()}`);
    } catch (error) { showProblem(section, error); }
  };
  section.append(h('h2', {}, `用户（${list.length}）`), table([
    { label: '用户名', value: (u) => u.username },
    { label: '姓名', value: (u) => u.display_name },
    { label: '角色', value: (u) => ROLE_NAMES[u.role] || u.role },
    { label: '区域', value: (u) => u.areas.map((a) => names[a] || a).join('、') },
    { label: '状态', value: (u) => (u.is_active ? '正常' : h('span', { class: 'badge warn' }, '已停用')) },
    { label: '创建', value: (u) => formatTime(u.created_at) },
    { label: '', value: (u) => (mayUpdate && u.id !== ctx.me.id
      ? h('button', { type: 'button', class: 'small', dataset: { user: u.username }, onclick: toggle(u) }, u.is_active ? '停用' : '启用') : '') },
  ], list));
}

async function areas(section) {
  const list = await myAreas();
  const children = {};
  const ids = new Set(list.map((a) => a.id));
  for (const a of list) (children[ids.has(a.parent) ? a.parent : ''] ||= []).push(a);
  const branch = (parent) => h('ul', { class: 'tree' }, ...(children[parent] || []).map((a) => h('li', {},
    h('span', {}, `${a.name} `), h('span', { class: 'muted' }, `${LEVEL_NAMES[a.level]} ${a.code}`), children[a.id] ? branch(a.id) : null)));
  section.append(h('h2', {}, `区域（${list.length}）`), list.length ? branch('') : h('p', { class: 'muted' }, '没有可见的区域。'));
}

async function permissions(section, ctx) {
  const t = await api('/api/v1/permissions');
  section.append(h('h2', {}, '权限表'),
    h('p', { class: 'muted' }, `你的角色是${ROLE_NAMES[ctx.me.role] || ctx.me.role}。角色决定能做哪些操作；能看到哪些记录还取决于分配给你的区域。`),
    table([
      { label: '操作', value: (row) => h('span', { title: row.action }, row.meaning) },
      ...t.roles.map((r) => ({ label: r.name, value: (row) => (row.roles.includes(r.role) ? '✓' : '') })),
    ], t.items));
}

async function throttles(section, ctx) {
  const page = await api('/api/v1/login-throttles');
  const lift = (row) => async () => {
    try {
      await api('/api/v1/login-throttles', { method: 'DELETE', query: { username: row.username, address: row.address } });
      toast(`已解除 ${row.username} 的登录限制`, 'ok');
      ctx.navigate(`#/people?tab=throttles&t=${Date.now()}`);
    } catch (error) { showProblem(section, error); }
  };
  section.append(h('h2', {}, '登录限制'), h('p', { class: 'muted' }, '近期登录失败的用户名和地址；须等待的在“限制到”一栏。'),
    page.items.length ? table([
      { label: '用户名', value: (r) => r.username },
      { label: '地址', value: (r) => r.address },
      { label: '失败次数', value: (r) => String(r.failures) },
      { label: '限制到', value: (r) => (r.until ? formatTime(r.until) : '无须等待') },
      { label: '', value: (r) => h('button', { type: 'button', class: 'small', onclick: lift(r) }, '解除限制') },
    ], page.items) : h('p', { class: 'muted' }, '没有登录限制。'));
}
