// The browser host of the harness: `window.harness.ready` and `window.harness.run(name, args)`.
// Every step replies {status: "ok", result} or {status: "error", error: {name, message, phase}}.
// Artifacts go back to the harness server as binary POST bodies to /results/<token>/<name>.
(function () {
  'use strict';
  const params = new URLSearchParams(location.search);

  function browserEnv(token) {
    return {
      async post(name, bytes) {
        // A Blob body, not the bytes: Chromium under Playwright copies an ArrayBuffer body into CDP's
        // Network events (base64, through the driver): 64 MB took 68 s that way and 3.2 s as a Blob.
        const res = await fetch(`/results/${token}/${encodeURIComponent(name)}`, {method: 'POST', body: new Blob([bytes])});
        if (!res.ok) throw new Error(`posting ${name} to the harness failed: HTTP ${res.status} ${await res.text()}`);
      },
      async fetchBytes(url) {
        const res = await fetch(url);
        if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
        return res.arrayBuffer();
      },
      inspectStorage: (what, post) => harnessStorage.inspect(what, post),
      files(inputId) {
        const input = document.getElementById(inputId);
        if (!input) throw new Error(`no <input type=file id=${inputId}> in the harness page`);
        return Array.from(input.files);
      },
    };
  }

  const steps = {
    ...harnessSteps.steps,
    // Nothing but the version and backend: used to check the page itself.
    info: async (tf) => ({tfjs: tf.version.tfjs, backend: tf.getBackend()}),
    // What the backend really is here: WebGL version and renderer, wasm SIMD and threads (harnessBackends).
    backendInfo: async (tf) => harnessBackends.describe(tf, window.harnessBackend),
    // Browser only: every key in localStorage and in the tensorflowjs IndexedDB database.
    storageKeys: async () => harnessStorage.keys(),
    ...harnessQuota.steps,
    ...harnessBench.steps,
  };

  async function run(name, args) {
    const step = steps[name];
    if (!Object.prototype.hasOwnProperty.call(steps, name)) {
      return {status: 'error', error: {name: 'HarnessError', message: `no page step named ${name}`}};
    }
    const started = performance.now();  // the step's own time: the harness reports it as in-page time
    try {
      const result = await step(tf, browserEnv(args.token), args);
      return {status: 'ok', result, elapsed_ms: performance.now() - started};
    } catch (e) {
      return {status: 'error', error: {name: (e && e.name) || 'Error', message: String((e && e.message) || e),
                                       phase: e && e.phase, stack: e && e.stack},
              elapsed_ms: performance.now() - started};
    }
  }

  const ready = (async () => {
    const config = window.harnessBackend || {name: params.get('backend') || 'cpu', base: params.get('backend') || 'cpu', flags: {}};
    await harnessBackends.use(tf, config);
    return {tfjs: tf.version.tfjs, backend: tf.getBackend()};
  })();
  window.harness = {ready, run};
})();
