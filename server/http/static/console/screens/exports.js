// 导出: start the export of an area's household files for a period, watch it, and download the ZIP in ranges, so
// that a download the network cut resumes where it stopped (Range with If-Range) instead of starting over.
import { api } from '../api.js';
import { h, table, toast, showProblem, formatTime } from '../ui.js';
import { EXPORT_STATES, areaSelect, field, monthNow } from './_common.js';
import { RangedDownload } from './_ranged.js';

const POLL_MS = 1000;
const downloads = new Map(); // export id → its download, kept while the console is open so it can resume

export default async function render(root, ctx) {
  const area = await areaSelect('area', '', { allLabel: null });
  const first = `${monthNow()}-01`;
  const today = new Date().toLocaleDateString('en-CA', { timeZone: 'Asia/Shanghai' });
  const from = h('input', { type: 'date', name: 'from', value: first, dataset: { pointer: '/from' } });
  const to = h('input', { type: 'date', name: 'to', value: today, dataset: { pointer: '/to' } });
  const form = h('form', { class: 'toolbar', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const started = await api('/api/v1/exports', { method: 'POST', body: { area: area.value, from: from.value, to: to.value } });
      toast('导出已开始', 'ok');
      ctx.navigate(`#/exports?id=${started.id}`);
    } catch (error) { showProblem(form, error); }
  } }, field('区域', area), field('起', from), field('止', to), h('button', { type: 'submit' }, '开始导出'));
  const watched = h('div');
  const list = h('div');
  root.append(h('h1', {}, '批量导出户档案'), h('p', { class: 'muted' },
    '导出一个区域在某期间走访过的全部户档案（PDF 摘要、数据、照片）。导出在后台进行；下载中断后可从断点继续。'),
  form, watched, h('section', { class: 'card' }, h('h2', {}, '导出记录'), list));

  const refresh = async () => {
    const page = await api('/api/v1/exports');
    list.replaceChildren(page.items.length ? table([
      { label: '区域', value: (x) => x.area_name || '' },
      { label: '期间', value: (x) => `${x.from} 至 ${x.to}` },
      { label: '状态', value: (x) => EXPORT_STATES[x.state] || x.state },
      { label: '开始', value: (x) => formatTime(x.created_at) },
      { label: '', value: (x) => h('a', { href: `#/exports?id=${x.id}` }, '查看') },
    ], page.items) : h('p', { class: 'muted' }, '还没有导出。'));
  };
  await refresh();
  if (ctx.params.get('id')) watch(ctx, watched, ctx.params.get('id'), refresh);
}

async function watch(ctx, box, id, refresh) {
  const card = h('section', { class: 'card export', dataset: { export: id } });
  const state = h('p', { class: 'state' });
  const bar = h('progress', { max: 100, value: 0 });
  const percent = h('span', { class: 'percent' }, '0 %');
  const actions = h('div', { class: 'toolbar' });
  card.append(h('h2', {}, '导出进度'), state, h('p', {}, bar, ' ', percent), actions);
  box.replaceChildren(card);
  const hash = window.location.hash;
  for (;;) {
    let x;
    try { x = await api(`/api/v1/exports/${id}`); } catch (error) { showProblem(card, error); return; }
    const { households_done: done, households_total: total, bytes } = x.progress;
    const pct = x.state === 'done' ? 100 : total ? Math.floor((done * 100) / total) : 0;
    bar.value = pct;
    percent.textContent = `${pct} %`;
    state.textContent = `${x.area_name || ''} ${x.from} 至 ${x.to}：${EXPORT_STATES[x.state] || x.state}，`
      + `已处理 ${done} / ${total} 户，${(bytes / 1024).toFixed(0)} KB${x.error ? `。${x.error}` : ''}`;
    if (x.state === 'done') { actions.replaceChildren(downloadControls(x)); refresh(); return; }
    if (x.state === 'failed' || x.state === 'expired') {
      actions.replaceChildren(h('button', { type: 'button', onclick: async () => {
        await api(`/api/v1/exports/${id}/restart`, { method: 'POST' });
        watch(ctx, box, id, refresh);
      } }, '重新导出'));
      refresh();
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    if (window.location.hash !== hash || !card.isConnected) return; // the user went elsewhere
  }
}

function downloadControls(x) {
  const status = h('p', { class: 'download-status' });
  const bar = h('progress', { max: x.size, value: 0 });
  const button = h('button', { type: 'button', class: 'download' }, '下载');
  let job = downloads.get(x.id);
  const paint = () => {
    bar.value = job.received;
    status.textContent = job.status();
    button.textContent = job.done ? '再次保存' : job.received ? '继续下载' : '下载';
  };
  button.onclick = async () => {
    job = job || new RangedDownload(x);
    downloads.set(x.id, job);
    job.onprogress = paint;
    button.disabled = true;
    try { await job.run(); toast('下载完成，校验一致', 'ok'); } catch (error) { toast(error.message, 'error'); }
    button.disabled = false;
    paint();
  };
  if (job) { job.onprogress = paint; paint(); }
  return h('div', {}, h('p', {}, `文件 ${(x.size / 1024).toFixed(0)} KB，SHA-256 ${x.sha256.slice(0, 16)}…`),
    button, ' ', bar, status);
}
