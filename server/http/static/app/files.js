// Household files kept whole on the phone: every visit, every need, for a file the worker opened or is due to visit,
// so that a file of hundreds of visits opens offline as it does online. The server gives visits a page at a time
// (newest first); the phone asks for its largest pages and keeps the file as one IndexedDB record.
import { call } from "./api.js";
import { get, put } from "./db.js";

const PAGE = 100;        // visits_limit's maximum: a 300-visit file in three requests
const DUE_FILES = 30;    // files of due visits fetched ahead per run, the most overdue first
const STALE = 12 * 3600e3;

export async function fetchFile(id) {
  let file = null, cursor = "";
  const visits = [];
  do {
    const { data } = await call("GET", `/households/${id}?visits_limit=${PAGE}${cursor ? `&visits_cursor=${encodeURIComponent(cursor)}` : ""}`);
    file ??= data;
    visits.push(...data.visits.items);
    cursor = data.visits.next_cursor;
  } while (cursor);
  file = { ...file, visits: { items: visits, next_cursor: null }, fetched_at: new Date().toISOString() };
  await put("files", file);
  return file;
}

// The households due a visit: their files fetched ahead (unless kept recently), for the day's round offline.
export async function keepDueFiles() {
  const due = (await call("GET", "/visit-plans/due")).data.items;
  await put("kv", due, "due");
  const ids = [...new Set(due.map((d) => d.household))].slice(0, DUE_FILES);
  for (const id of ids) {
    const kept = await get("files", id);
    if (!kept?.fetched_at || Date.now() - Date.parse(kept.fetched_at) > STALE) await fetchFile(id);
  }
}
