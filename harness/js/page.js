// The browser host of the harness: `window.harness.ready` and `window.harness.run(name, args)`.
// Every step replies {status: "ok", result} or {status: "error", error: {name, message, phase}}.
//
// ?context=NAME (harness.contexts): the steps run in that context instead of this window (a dedicated,
// shared or service worker, a same-origin or cross-site frame), opened by harnessContexts; this window
// only relays them, with the files a driver chose in its <input type=file>. ?frame=1: this page is such
// a frame, and serves its parent over the MessagePort the parent sends.
(function () {
  'use strict';
  const params = new URLSearchParams(location.search);
  const context = params.get('context') || 'window';
  const run = harnessHost.runner({upload: params.get('upload')});

  // This window's own TF.js: none where it only relays the steps (the server sends it no TF.js then).
  const own = context !== 'window' && !params.get('frame') ? null : (async () => {
    const config = window.harnessBackend || {name: params.get('backend') || 'cpu', base: params.get('backend') || 'cpu', flags: {}};
    await harnessBackends.use(tf, config);
    return {tfjs: tf.version.tfjs, backend: tf.getBackend()};
  })();

  if (params.get('frame')) {
    window.addEventListener('message', (event) => {
      if (event.source === window.parent && event.data && event.data.harnessConnect) {
        harnessHost.serve(event.ports[0], own, run);
      }
    });
    window.parent.postMessage({harnessFrame: 'loaded'}, '*');
  }

  if (context === 'window') {
    window.harness = {ready: own, run, context};
    return;
  }
  // The row's steps run there, on the context's own TF.js.
  const opened = harnessContexts.open(context, params);
  window.harness = {
    context,
    ready: opened.then((relay) => relay.ready),
    async run(name, args) {
      let relay;
      try {
        relay = await opened;
      } catch (e) {
        return {status: 'error', error: {name: (e && e.name) || 'Error', message: String((e && e.message) || e), phase: 'context'}};
      }
      return relay.run(name, args);
    },
    // Empty the context's own storage where it is not this window's (a cross-site frame's partition).
    clearContext: async () => (await opened).run('clearStorage', {}),
  };
})();
