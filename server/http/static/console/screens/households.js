// 一户一档: find households (name, pinyin, address, phone, a whole ID number; by area, ledger and tag) and open one.
import { api } from '../api.js';
import { h, table, formatTime } from '../ui.js';
import { LEDGERS, TAGS, areaNames, areaSelect, field, moreButton, select } from './_common.js';
import renderFile from './_household_file.js';

export default async function render(root, ctx) {
  const id = ctx.params.get('id');
  if (id) return renderFile(root, ctx, id);
  return renderSearch(root, ctx);
}

async function renderSearch(root, ctx) {
  const params = ctx.params;
  const names = await areaNames();
  const q = h('input', { name: 'q', type: 'search', placeholder: '姓名、拼音、住址、电话或身份证号', value: params.get('q') || '',
    dataset: { pointer: '/q' } });
  const area = await areaSelect('area', params.get('area') || '');
  const ledger = select('ledger', { '': '全部台账', ...LEDGERS }, params.get('ledger') || '');
  const tag = select('tag', { '': '全部标签', ...TAGS }, params.get('tag') || '');
  const form = h('form', { class: 'toolbar', onsubmit: (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const [key, control] of Object.entries({ q, area, ledger, tag })) if (control.value) query.set(key, control.value);
    ctx.navigate(`#/households?${query}`);
  } }, field('查找', q), field('区域', area), field('台账', ledger), field('标签', tag),
  h('button', { type: 'submit' }, '查找'));

  const rows = h('div', { class: 'results' });
  root.append(h('h1', {}, '一户一档'), form, rows);
  const query = {};
  for (const key of ['q', 'area', 'ledger', 'tag']) if (params.get(key)) query[key] = params.get(key);
  const list = [];
  const body = h('div');
  const more = moreButton((cursor) => api('/api/v1/households', { query: { ...query, ...(cursor ? { cursor } : {}) } }),
    (items) => {
      list.push(...items);
      body.replaceChildren(list.length ? table([
        { label: '户主', value: (r) => h('a', { href: `#/households?id=${r.id}` }, r.head) },
        { label: '住址', value: (r) => r.address },
        { label: '电话', value: (r) => r.phone || '' },
        { label: '社区（村）', value: (r) => names[r.community] || '' },
        { label: '更新时间', value: (r) => formatTime(r.updated_at) },
      ], list) : h('p', { class: 'muted' }, '没有符合条件的户。'));
    });
  rows.append(body, more.button);
  await more.load();
}
