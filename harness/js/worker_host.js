// The host of the harness steps in a worker (dedicated, shared or service), loaded by /worker.js after
// TF.js and the harness scripts (harness.server renders it with the row's TF.js build and backend). It
// serves the window that opened it over the MessagePort it sends (harnessHost.serve).
(function () {
  'use strict';
  const scope = harnessHost.scopeName();
  // A dedicated worker says what it is before its backend starts: a backend that blocks this thread for ever
  // (the wasm threads in Firefox) is then told from a worker that never ran (harness/js/contexts.js relay).
  if (scope === 'dedicated-worker') self.postMessage({harnessScope: scope});
  const ready = (async () => {
    await harnessBackends.use(tf, self.harnessBackend);
    return {tfjs: tf.version.tfjs, backend: tf.getBackend()};
  })();
  ready.catch(() => {});  // reported to the window by the __ready request
  const run = harnessHost.runner({upload: self.harnessUpload});
  const connect = (event) => {
    if (event.data && event.data.harnessConnect && event.ports[0]) harnessHost.serve(event.ports[0], ready, run);
  };
  if (scope === 'shared-worker') {
    self.addEventListener('connect', (event) => harnessHost.serve(event.ports[0], ready, run));
  } else if (scope === 'service-worker') {
    self.addEventListener('install', () => self.skipWaiting());
    self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
    self.addEventListener('message', connect);
  } else {
    self.addEventListener('message', connect);
  }
})();
