// IndexedDB, in a few promises: what the phone keeps between visits (the token, synced forms and households,
// drafts, the outbox and the photos waiting in it). One database; each store keyed as its comment says.
const NAME = "doorstep";
const STORES = {
  kv: null,          // small settings: token, user, sync cursor
  forms: "slug",     // the latest version of each form the worker may fill
  households: "id",  // household files from sync, and those registered on this phone
  files: "id",       // the full file (visits, needs) as last opened online
  drafts: "id",      // forms being filled
  outbox: "id",      // households, photos and submissions waiting to be acknowledged
  blobs: null,       // photo bytes by sha256
};
let opened;

function open() {
  opened ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(NAME, 1);
    request.onupgradeneeded = () => {
      for (const [name, key] of Object.entries(STORES)) {
        if (!request.result.objectStoreNames.contains(name)) {
          request.result.createObjectStore(name, key ? { keyPath: key } : undefined);
        }
      }
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opened;
}

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function store(name, mode = "readonly") {
  return (await open()).transaction(name, mode).objectStore(name);
}

export const get = async (name, key) => done((await store(name)).get(key));
export const all = async (name) => done((await store(name)).getAll());
export const put = async (name, value, key) => done((await store(name, "readwrite")).put(value, key));
export const del = async (name, key) => done((await store(name, "readwrite")).delete(key));
export const clear = async (name) => done((await store(name, "readwrite")).clear());

// Many writes in one transaction: a sync page lands whole or not at all.
export async function batch(name, values, removals = []) {
  const tx = (await open()).transaction(name, "readwrite");
  const s = tx.objectStore(name);
  for (const v of values) s.put(v);
  for (const k of removals) s.delete(k);
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}

export async function wipe() {
  for (const name of Object.keys(STORES)) await clear(name);
}
