// The service worker: the app shell, cached under the version of this deploy (the server writes it in), so the app
// opens with the network off; a new deploy installs a new cache and drops the old one. The API is never cached
// here: what the app keeps offline lives in IndexedDB.
const VERSION = "__VERSION__";
const CACHE = `doorstep-app-${VERSION}`;
const SHELL = ["/app/", "__SHELL__"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("doorstep-app-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin || !url.pathname.startsWith("/app/")) return;
  const key = event.request.mode === "navigate" ? "/app/" : url.pathname;
  event.respondWith(caches.open(CACHE).then(async (cache) => (await cache.match(key)) || fetch(event.request)));
});
