// 台账: the four ledgers, narrowed to an area, a page at a time, and the whole ledger as an XLSX workbook.
import { api, download } from '../api.js';
import { h, table, formatTime } from '../ui.js';
import { LEDGERS, areaSelect, field, guard, moreButton, select } from './_common.js';

const PERSON = [['name', '姓名'], ['gender', '性别'], ['birth_date', '出生日期'], ['age', '年龄'], ['id_number', '身份证号']];
const WHERE = [['community_name', '社区（村）'], ['address', '住址'], ['phone', '联系电话']];
const VISITS = [['visit_plan', '探访要求'], ['last_visit_at', '最近走访'], ['days_since_visit', '距今天数'], ['next_visit_on', '下次走访']];
const COLUMNS = {
  elderly: [...PERSON, ['categories', '老人类别'], ...WHERE, ['income_source', '经济来源'], ['family_structure', '家庭结构'],
    ['health', '健康状况'], ['care', '照料情况'], ['carer', '照料人'], ['carer_phone', '照料人电话'], ['risk_level', '风险等级']],
  children: [...PERSON, ['categories', '儿童类别'], ['school', '就读学校'], ['guardianship', '监护情况'], ['guardian', '监护人'],
    ['guardian_relation', '与儿童关系'], ['guardian_phone', '监护人电话'], ['family_structure', '家庭结构'], ...WHERE],
  disability: [...PERSON, ['disability_type', '残疾类别'], ['disability_level', '残疾等级'], ['certificate', '持残疾人证'],
    ['mental_disorder', '严重精神障碍'], ['guardian', '监护人'], ['care', '照料情况'], ['risk_level', '风险等级'], ...WHERE],
  assistance: [['head', '户主'], ['head_id_number', '户主身份证号'], ['assistance_type', '救助类型'], ['household_size', '家庭人口数'],
    ['monthly_income', '人均月收入（元）'], ['income_source', '主要经济来源'], ['housing', '住房情况'], ...WHERE],
};

function cell(key, value) {
  if (value === null || value === undefined) return '';
  if (value === true) return '是';
  if (value === false) return '否';
  if (key === 'last_visit_at') return formatTime(value);
  return String(value);
}

export default async function render(root, ctx) {
  const kind = LEDGERS[ctx.params.get('kind')] ? ctx.params.get('kind') : 'elderly';
  const area = ctx.params.get('area') || '';
  const kindSelect = select('kind', LEDGERS, kind);
  const areaInput = await areaSelect('area', area);
  const xlsx = () => download(`/api/v1/ledgers/${kind}.xlsx${area ? `?area=${area}` : ''}`,
    `台账_${LEDGERS[kind]}_${new Date().toISOString().slice(0, 10)}.xlsx`);
  root.append(h('h1', {}, '台账'),
    h('form', { class: 'toolbar', onsubmit: (e) => {
      e.preventDefault();
      const q = new URLSearchParams({ kind: kindSelect.value });
      if (areaInput.value) q.set('area', areaInput.value);
      ctx.navigate(`#/ledgers?${q}`);
    } }, field('台账', kindSelect), field('区域', areaInput), h('button', { type: 'submit' }, '查看'),
    h('button', { type: 'button', class: 'download', onclick: guard(xlsx) }, '下载 XLSX')));

  const columns = [...COLUMNS[kind], ...VISITS].map(([key, label]) => ({ label, value: (line) => cell(key, line[key]) }));
  const [firstKey] = COLUMNS[kind][0];
  columns[0] = { ...columns[0], value: (line) => h('a', { href: `#/households?id=${line.household}` }, cell(firstKey, line[firstKey])) };
  const lines = [];
  const body = h('div', { class: 'wide' });
  const count = h('p', { class: 'muted' });
  const more = moreButton((cursor) => api(`/api/v1/ledgers/${kind}`, { query: { ...(area ? { area } : {}), ...(cursor ? { cursor } : {}) } }),
    (items) => {
      lines.push(...items);
      count.textContent = `${LEDGERS[kind]}台账：已列出 ${lines.length} 行`;
      body.replaceChildren(lines.length ? table(columns, lines) : h('p', { class: 'muted' }, '台账上还没有人。'));
    });
  root.append(h('section', { class: 'card' }, count, body, more.button));
  await more.load();
}
