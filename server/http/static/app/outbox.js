// The outbox: every household, photo, submission and provider's action on a need made on the phone waits here until the server acknowledges
// it. Sending goes in order (households, then photos, then submissions), each a PUT under an id the phone made or
// the photo's hash, so a retry after a lost answer is answered 200 and never makes a duplicate.
import { call, Offline, Problem, upload } from "./api.js";
import { all, del, get, put } from "./db.js";

// A correction after the household it corrects (registered offline, perhaps); a need's proof photos before it.
const ORDER = { household: 0, correction: 1, photo: 2, submission: 3, need: 4 };
const listeners = new Set();
let running = null;
// How far each photo being uploaded has gone (0–1), by its hash: kept here, not written to IndexedDB at every step.
const uploading = new Map();
export const progressOf = (item) => uploading.get(item.key) ?? item.progress ?? 0;

export const onChange = (fn) => listeners.add(fn);
const changed = () => listeners.forEach((fn) => fn());

export async function items() {
  return (await all("outbox")).sort((a, b) => ORDER[a.kind] - ORDER[b.kind] || a.created.localeCompare(b.created));
}

export async function enqueue(kind, key, fields = {}) {
  const id = kind === "photo" ? `photo:${key}` : key;
  const old = await get("outbox", id);
  if (old && old.state === "sent" && kind === "photo") return;  // the same bytes again: already there
  await put("outbox", { id, kind, key, state: "pending", why: null, errors: [], progress: 0,
    created: old?.created || new Date().toISOString(), ...fields });
  changed();
  send();
}

export async function pendingCount() {
  return (await all("outbox")).filter((i) => i.state === "pending").length;
}

export function send() {
  running ??= drain().finally(() => { running = null; changed(); });
  return running;
}

async function drain() {
  for (const item of await items()) {
    if (item.state !== "pending") continue;
    try {
      await sendOne(item);
    } catch (e) {
      if (e instanceof Offline || (e instanceof Problem && (e.status >= 500 || e.status === 401 || e.status === 429))) {
        return;  // try again when the network (or the login) is back; nothing is lost
      }
      if (!(e instanceof Problem)) throw e;
      await put("outbox", { ...item, state: "refused", why: e.message, errors: e.body.errors || [] });
      await refuseDraft(item, e);
    }
    changed();
  }
}

async function sendOne(item) {
  if (item.kind === "photo") {
    if ((await call("HEAD", `/attachments/${item.key}`)) !== 200) {
      const blob = await get("blobs", item.key);
      try {
        await upload(item.key, blob, (p) => { uploading.set(item.key, p); changed(); });
      } finally {
        uploading.delete(item.key);
      }
    }
    await put("outbox", { ...item, state: "sent", progress: 1, sent_at: new Date().toISOString() });
    return;
  }
  if (item.kind === "need") {  // a provider's action; a 409 (someone acted first) is refused with its reason
    let reply;
    try {
      reply = (await call("POST", `/needs/${item.need}/${item.action}`, item.body)).data;
    } catch (e) {
      if (!(e instanceof Problem && (e.status === 409 || e.status === 404) && await wentThrough(item, e))) throw e;
      reply = null;
    }
    await put("outbox", { ...item, state: "sent", reply, sent_at: new Date().toISOString() });
    return;
  }
  if (item.kind === "correction") {  // the same values sent again change nothing: a retry is harmless
    const reply = (await call("PATCH", `/households/${item.household}`, item.body)).data;
    const local = await get("households", item.household);
    const { possible_duplicates: _, ...file } = reply;
    if (local) await put("households", { ...local, ...file });
    await put("outbox", { ...item, state: "sent", sent_at: new Date().toISOString() });
    return;
  }
  const path = item.kind === "household" ? `/households/${item.key}` : `/submissions/${item.key}`;
  let reply;
  try {
    reply = await call("PUT", path, item.body);
  } catch (e) {
    if (e instanceof Problem && e.status === 422 && e.body.missing?.length) {
      for (const sha of e.body.missing) await put("outbox", { ...(await get("outbox", `photo:${sha}`)), state: "pending" });
      return send();  // upload them first, then the same PUT again
    }
    throw e;
  }
  await put("outbox", { ...item, state: "sent", reply: reply.data, sent_at: new Date().toISOString() });
  if (item.kind === "household") {
    const local = await get("households", item.key);
    if (local) await put("households", { ...local, pending: false });
  } else if (item.draft) {
    await del("drafts", item.draft);
  }
}

// A resent action refused because the need is no longer where it was may be this very action, sent before, whose
// reply was lost (the network dropped after the server acted): the need's last event says so when it is this
// action by this user. A decline takes the need away from the provider, so a resent one is a 404, as is the
// need after it: the provider has nothing more to do with it either way.
async function wentThrough(item, problem) {
  const user = await get("kv", "user");
  try {
    const last = (await call("GET", `/needs/${item.need}`)).data.events.at(-1);
    return last?.action === item.action && last.actor === user?.id;
  } catch (e) {
    if (e instanceof Offline) throw e;
    return item.action === "decline" && problem.status === 404 && e instanceof Problem && e.status === 404;
  }
}

// Sent items that are only kept for the record go after a week; the rest stays until acknowledged.
export async function prune() {
  const weekAgo = new Date(Date.now() - 7 * 864e5).toISOString();
  for (const item of await all("outbox")) {
    if ((item.state === "sent" || item.state === "returned") && item.sent_at < weekAgo) {
      await del("outbox", item.id);
      if (item.kind === "photo") await del("blobs", item.key);
    }
  }
}

// The server's reasons go back to the draft, at the fields its pointers name (they point into /data/…).
async function refuseDraft(item, problem) {
  const draft = item.draft && await get("drafts", item.draft);
  if (!draft) return;
  const errors = (problem.body.errors || []).map((e) => ({
    pointer: e.pointer.startsWith("/data") ? e.pointer.slice(5) : e.pointer, detail: e.detail }));
  await put("drafts", { ...draft, errors, refused: problem.message, fromServer: true });
}
