// The handheld's service worker: keeps the app shell (pages, modules, styles, camera library) so the app opens
// with no network. Pages: network first, the cached copy when offline. Static files: cache first. API calls are
// never cached here: the app keeps its own data and its queue of scans in IndexedDB.
const CACHE = "hh-shell-v11";  // a new name when the shell changes: the old cache is dropped on activate
const SHELL = ["/hh/", "/hh/pick", "/hh/replenish", "/hh/manifest.webmanifest", "/hh/static/hh.css",
  "/hh/static/icon.svg", "/hh/static/icon-192.png", "/hh/static/js/app.js", "/hh/static/js/device.js", "/hh/static/js/feedback.js",
  "/hh/static/js/store.js", "/hh/static/js/outbox.js", "/hh/static/js/scanfield.js", "/hh/static/js/camera.js",
  "/hh/static/js/home.js", "/hh/static/js/pick.js", "/hh/static/js/pickflow.js", "/hh/static/js/replenish.js", "/hh/static/js/tasklist.js",
  "/hh/static/vendor/zxing/zxing-library-0.21.3.min.js",
  // Other flows' screens: a page or module missing or refused (403) is skipped by the install below.
  "/hh/receive", "/hh/putaway", "/hh/pack", "/hh/stage", "/hh/static/js/receive.js", "/hh/static/js/putaway.js",
  "/hh/static/js/pack.js", "/hh/static/js/stage.js"];

self.addEventListener("install", (event) => {
  // One by one: a page the person's role may not open (403) or a sign-in redirect is simply not kept.
  event.waitUntil(caches.open(CACHE).then((cache) => Promise.all(SHELL.map((path) =>
    fetch(path, { credentials: "same-origin" }).then((resp) => {
      if (resp.ok && !resp.redirected) { return cache.put(path, resp); }
      return null;
    }).catch(() => null)))).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/hh/api/")) {
    return;
  }
  if (event.request.mode === "navigate") {
    event.respondWith(fetch(event.request).then((resp) => {
      if (resp.ok && !resp.redirected) {
        const copy = resp.clone();
        caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
      }
      return resp;
    }).catch(() => caches.match(url.pathname).then((hit) => hit || caches.match("/hh/"))));
    return;
  }
  if (url.pathname.startsWith("/hh/static/")) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(event.request).then((resp) => {
      if (resp.ok) { const copy = resp.clone(); caches.open(CACHE).then((c) => c.put(url.pathname, copy)); }
      return resp;
    })));
  }
});
