// The household file keeps bound values as stored (`rented`); the console shows them as the form that observed
// them labels them (租房): each situation field's source names its submission, the visit names that submission's
// form version, and the version's `ui.questions[pointer].choices` hold the labels of the question bound to it.
import { api } from '../api.js';

// The fields of the file as the form designer offers them for bindings (one copy, held to forms/bindings.py by
// tests/test_console_forms.py), for a conflict or a change of one of them.
export { SITUATION as SITUATION_FIELDS, MEMBER_FIELDS } from '../forms/model.js';

const versions = new Map();

function versionOf(submission) {
  const key = `${submission.form}/${submission.version}`;
  if (!versions.has(key)) {
    versions.set(key, api(`/api/v1/forms/${submission.form}/versions/${submission.version}`).catch(() => null));
  }
  return versions.get(key);
}

// "form/version" → the version's title, for the visits of a file.
export async function formTitles(file) {
  const titles = {};
  for (const visit of file.visits.items) {
    for (const s of visit.submissions) {
      const version = await versionOf(s);
      titles[`${s.form}/${s.version}`] = version ? version.title : s.form;
    }
  }
  return titles;
}

// target → {code: label} of the questions a version binds: `health` for the situation, `member:health` for a
// member's field (a question of the members' group, `/members/*/health`). Walked once per version.
const bound = new WeakMap();

function boundChoices(version) {
  if (bound.has(version)) return bound.get(version);
  const found = {};
  const walk = (node, pointer) => {
    if (!node || typeof node !== 'object') return;
    const choices = () => ((version.ui.questions || {})[pointer] || {}).choices || {};
    if (node['x-situation']) found[node['x-situation']] = choices();
    if (node['x-member']) found[`member:${node['x-member']}`] = choices();
    for (const [name, child] of Object.entries(node.properties || {})) walk(child, `${pointer}/${name}`);
    if (node.items) walk(node.items, `${pointer}/*`);
  };
  walk(version.schema, '');
  bound.set(version, found);
  return found;
}

// field → {code: label}, per submission of the file, read from the form versions its visits used.
export async function situationLabels(file) {
  const bySubmission = {};
  for (const visit of file.visits.items) for (const s of visit.submissions) bySubmission[s.id] = s;
  const labels = {};
  for (const [target, source] of Object.entries(file.situation_sources || {})) {
    const s = source && bySubmission[source.submission];
    if (!s) continue;
    const version = await versionOf(s);
    labels[target] = version ? boundChoices(version)[target] || {} : {};
  }
  // A member's fields as the latest visit that binds each labels them (visits come newest first).
  for (const [key, choices] of await visitsChoices(file)) {
    if (key.startsWith('member:') && !(key in labels)) labels[key] = choices;
  }
  return labels;
}

// target → {code: label} over every form version the file's loaded visits used, the newest first: the words of old
// values in the history (变更记录), which a later form may label, or code, otherwise.
export async function everyLabel(file) {
  const labels = {};
  for (const [key, choices] of await visitsChoices(file)) labels[key] = { ...choices, ...labels[key] };
  return labels;
}

// [target, {code: label}] of every question bound by the form versions of the file's loaded visits, newest first.
async function visitsChoices(file) {
  const found = [];
  for (const visit of file.visits.items) {
    for (const s of visit.submissions) {
      const version = await versionOf(s);
      found.push(...Object.entries(version ? boundChoices(version) : {}));
    }
  }
  return found;
}
