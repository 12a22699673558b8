// The service worker of the service-worker-cache hosting profile (harness.schemes.hosting): what an app's
// offline support does with its model (Workbox's CacheFirst): every request for a hosted model file is
// answered from Cache Storage when it is there, else fetched and, if it succeeded, cached.
'use strict';

const CACHE = 'harness-model-cache';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  if (!new URL(event.request.url).pathname.startsWith('/hosted/')) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const hit = await cache.match(event.request);
    if (hit) return hit;
    const response = await fetch(event.request);
    if (response.ok) await cache.put(event.request, response.clone());
    return response;
  })());
});
