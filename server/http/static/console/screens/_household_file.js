// One household file (一户一档): members (an ID number revealed on demand, which the audit log records), the
// situation as last seen, visits with their photos, needs and conflicts; correcting it with a reason, merging a
// duplicate into it (and undoing), printing its PDF summary and downloading its archive.
import { api, apiRaw, download } from '../api.js';
import { h, table, toast, showProblem, confirmDialog, formatTime } from '../ui.js';
import {
  GENDERS, NEED_STATUSES, RELATIONS, REVIEW_STATES, TAGS, URGENCIES, allows, areaNames, authorisedImage, field, guard, saveBlob,
} from './_common.js';
import { zipEntry } from './_zip.js';
import mergePanel from './_household_merge.js';
import historyCard from './_household_history.js';
import { MEMBER_FIELDS, SITUATION_FIELDS, everyLabel, formTitles, situationLabels } from './_labels.js';

const show = (value) => (value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value));

export default async function renderFile(root, ctx, id) {
  const [file, changes] = await Promise.all([api(`/api/v1/households/${id}`), api(`/api/v1/households/${id}/history`)]);
  const [labels, words, titles, names, mayReveal, mayCorrect, mayResolve, mayMerge, mayArchive] = await Promise.all([
    situationLabels(file), everyLabel(file), formTitles(file), areaNames(), allows(ctx.me, 'household.reveal_id'),
    allows(ctx.me, 'household.correct'), allows(ctx.me, 'conflict.resolve'), allows(ctx.me, 'household.merge'),
    allows(ctx.me, 'household.archive'),
  ]);
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  const actions = h('div', { class: 'toolbar' },
    h('a', { href: '#/households', class: 'button' }, '← 返回查找'),
    mayArchive ? h('button', { type: 'button', onclick: () => printSummary(file) }, '打印摘要（PDF）') : null,
    mayArchive ? h('button', { type: 'button', onclick: guard(() => download(`/api/v1/households/${id}/archive`,
      `户档案_${file.head}_${day}.zip`)) }, '下载档案包') : null);
  root.append(...[
    h('h1', {}, `${file.head} 户`),
    actions,
    h('div', { class: 'card' },
      h('p', {}, `住址：${file.address}`), h('p', {}, `电话：${file.phone || '—'}`),
      h('p', {}, `社区（村）：${names[file.community] || file.community}`),
      h('p', { class: 'muted' }, `建档 ${formatTime(file.created_at)}，更新 ${formatTime(file.updated_at)}`)),
    membersCard(file, mayReveal),
    situationCard(file, labels),
    file.conflicts.length ? conflictsCard(ctx, file, labels, mayResolve) : null,
    needsCard(file),
    visitsCard(file, titles),
    historyCard(file, changes, words),
    mayCorrect ? correctionCard(ctx, file) : null,
    mayMerge ? mergePanel(ctx, file) : null,
  ].filter(Boolean));
}

function membersCard(file, mayReveal) {
  const note = h('p', { class: 'muted', dataset: { role: 'reveal-note' } });
  const idCell = (m) => {
    const cell = h('span', { class: 'id-number' }, m.id_number || '—');
    if (!mayReveal || !m.id_number) return cell;
    const button = h('button', { type: 'button', class: 'small', onclick: async () => {
      const revealed = await api(`/api/v1/members/${m.id}/reveal`, { method: 'POST' });
      cell.textContent = revealed.id_number || '—';
      button.remove();
      note.textContent = `已查看 ${m.name} 的完整身份证号，此次查看已记入操作日志（household.id_revealed）。`;
      note.className = 'warn';
    } }, '查看完整号码');
    return h('span', {}, cell, ' ', button);
  };
  return h('section', { class: 'card' }, h('h2', {}, `成员（${file.members.length}）`),
    table([
      { label: '姓名', value: (m) => m.name },
      { label: '关系', value: (m) => RELATIONS[m.relation] || show(m.relation) },
      { label: '性别', value: (m) => GENDERS[m.gender] || show(m.gender) },
      { label: '出生日期', value: (m) => show(m.birth_date) },
      { label: '身份证号', value: idCell },
      { label: '标签', value: (m) => (m.tags || []).map((t) => TAGS[t] || t).join('、') },
    ], file.members),
    mayReveal ? h('p', { class: 'muted' }, '身份证号默认打码；查看完整号码会记入操作日志。') : null, note);
}

function situationCard(file, labels) {
  const rows = Object.entries(file.situation || {}).map(([key, value]) => ({ key, value,
    at: (file.situation_observed_at || {})[key], reason: ((file.situation_sources || {})[key] || {}).reason }));
  return h('section', { class: 'card' }, h('h2', {}, '情况（最近一次所见）'),
    rows.length ? table([
      { label: '项目', value: (r) => SITUATION_FIELDS[r.key] || r.key },
      { label: '情况', value: (r) => ((labels[r.key] || {})[r.value] ?? show(r.value)) },
      { label: '所见时间', value: (r) => formatTime(r.at) },
      { label: '更正原因', value: (r) => r.reason || '' },
    ], rows) : h('p', { class: 'muted' }, '尚无走访记录的情况。'));
}

function needsCard(file) {
  return h('section', { class: 'card' }, h('h2', {}, `需求（${file.needs.length}）`),
    file.needs.length ? table([
      { label: '服务项目', value: (n) => n.item_name || n.item },
      { label: '紧急程度', value: (n) => URGENCIES[n.urgency] || n.urgency },
      { label: '状态', value: (n) => NEED_STATUSES[n.status] || n.status },
      { label: '提出', value: (n) => formatTime(n.raised_at) },
      { label: '办理期限', value: (n) => formatTime(n.due_at) },
      { label: '服务机构', value: (n) => (n.outcome && n.outcome.provider_name) || '' },
    ], file.needs) : h('p', { class: 'muted' }, '没有需求。'));
}

function visitsCard(file, titles) {
  const visits = file.visits.items;
  return h('section', { class: 'card' }, h('h2', {}, '走访记录'),
    visits.length ? h('ol', { class: 'visits' }, ...visits.map((v) => h('li', {},
      h('strong', {}, formatTime(v.observed_at || v.started_at)), ` ${v.worker_name || ''}`,
      ...v.submissions.map((s) => h('div', {},
        `${titles[`${s.form}/${s.version}`] || s.form}（第 ${s.version} 版）· ${REVIEW_STATES[s.review_state] || s.review_state}`,
        s.flags && s.flags.length ? h('span', { class: 'badge warn' }, `证据提示 ${s.flags.length}`) : null,
        h('div', { class: 'photos' }, ...s.photos.slice(0, 6).map((p) => authorisedImage(apiRaw, p.thumbnail,
          `照片 ${p.pointer} ${formatTime(p.taken_at)}`)))))))) : h('p', { class: 'muted' }, '还没有走访。'),
    file.visits.next_cursor ? h('p', { class: 'muted' }, '只显示最近 20 次走访；全部走访在档案包里。') : null);
}

function conflictsCard(ctx, file, labels, mayResolve) {
  const card = h('section', { class: 'card warn conflicts' }, h('h2', {}, `待处理的冲突（${file.conflicts.length}）`),
    h('p', { class: 'muted' }, '两次走访在离线时互不知情，记下的值不同：现值是走访时间较晚的一次。核实后保留现值，或改用另一值。'));
  for (const c of file.conflicts) {
    const member = c.member && file.members.find((m) => m.id === c.member);
    const what = c.member ? `${member ? member.name : '成员'}的${MEMBER_FIELDS[c.field] || c.field}` : SITUATION_FIELDS[c.field] || c.field;
    const worded = (value) => {
      if (c.member && c.field === 'relation') return RELATIONS[value] || show(value);
      if (c.member && c.field === 'gender') return GENDERS[value] || show(value);
      if (c.member && c.field === 'tags' && Array.isArray(value)) return value.map((t) => TAGS[t] || t).join('、');
      return (labels[c.member ? `member:${c.field}` : c.field] || {})[value] ?? show(value);
    };
    const box = h('div', { class: 'conflict', dataset: { conflict: c.id } });
    const comment = h('input', { name: 'comment', placeholder: '核实情况（可不填）', dataset: { pointer: '/comment' } });
    const resolve = (keep) => async (event) => {
      event.currentTarget.disabled = true;
      showProblem(box, null);
      try {
        await api(`/api/v1/conflicts/${c.id}/resolve`, { method: 'POST', body: { keep, ...(comment.value.trim() ? { comment: comment.value.trim() } : {}) } });
        toast(keep === 'kept' ? `冲突已处理：${what}保留现值` : `冲突已处理：${what}已改用另一值`, 'ok');
        ctx.navigate(`#/households?id=${file.id}&t=${Date.now()}`);
      } catch (error) { showProblem(box, error); event.target.disabled = false; }
    };
    box.append(h('p', {}, h('strong', {}, what), '：现值「', h('b', { class: 'kept' }, worded(c.kept.value)),
      `」（走访于 ${formatTime(c.kept.observed_at)}），另一次走访为「`, h('b', { class: 'lost' }, worded(c.lost.value)),
      `」（走访于 ${formatTime(c.lost.observed_at)}，${formatTime(c.lost.received_at)} 收到）`),
    mayResolve ? h('div', { class: 'toolbar' }, field('说明', comment),
      h('button', { type: 'button', onclick: resolve('kept') }, '保留现值'),
      h('button', { type: 'button', onclick: resolve('lost') }, '改用另一值')) : null);
    card.append(box);
  }
  return card;
}

function correctionCard(ctx, file) {
  const inputs = {
    address: h('input', { name: 'address', value: file.address, dataset: { pointer: '/address' } }),
    head: h('input', { name: 'head', value: file.head, dataset: { pointer: '/head' } }),
    phone: h('input', { name: 'phone', value: file.phone || '', dataset: { pointer: '/phone' } }),
    reason: h('input', { name: 'reason', placeholder: '必填：为什么更正', dataset: { pointer: '/reason' } }),
  };
  const form = h('form', { class: 'card correction', onsubmit: async (event) => {
    event.preventDefault();
    const body = { reason: inputs.reason.value };
    for (const key of ['address', 'head', 'phone']) {
      const value = inputs[key].value.trim();
      if (value !== (file[key] || '')) body[key] = value || null;
    }
    try {
      await api(`/api/v1/households/${file.id}`, { method: 'PATCH', body });
      toast('已更正，原因已写入档案的变更记录', 'ok');
      ctx.navigate(`#/households?id=${file.id}&t=${Date.now()}`);
    } catch (error) { showProblem(form, error); }
  } }, h('h2', {}, '更正档案'),
  field('住址', inputs.address), field('户主', inputs.head), field('电话', inputs.phone), field('原因', inputs.reason),
  h('button', { type: 'submit' }, '保存更正'));
  return form;
}

// The summary is inside the archive (the one place the server makes it): fetch the archive, take the PDF out, print.
async function printSummary(file) {
  if (!(await confirmDialog('打印摘要需导出本户档案包（会记入操作日志），继续吗？'))) return;
  try {
    const response = await apiRaw(`/api/v1/households/${file.id}/archive`);
    if (!response.ok) throw new Error(`档案包下载失败（${response.status}）`);
    const pdf = await zipEntry(await response.blob(), '户档案摘要.pdf');
    // The console's CSP lets no plugin or frame show a PDF inside the page: it opens in a tab of its own (the
    // browser's viewer prints it), or is saved when the browser keeps pop-ups closed.
    const named = new Blob([pdf], { type: 'application/pdf' });
    const url = URL.createObjectURL(named);
    if (window.open(url, '_blank')) toast('摘要已在新标签页打开，可在其中打印', 'ok');
    else saveBlob(named, `户档案摘要_${file.head}.pdf`);
    setTimeout(() => URL.revokeObjectURL(url), 300_000);
  } catch (error) { toast(error.message, 'error'); }
}
