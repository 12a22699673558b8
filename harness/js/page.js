// The browser host of the harness: `window.harness.ready` and `window.harness.run(name, args)`.
// Every step replies {status: "ok", result} or {status: "error", error: {name, message, phase}}.
// Artifacts go back to the harness server as binary POST bodies to /results/<token>/<name>.
(function () {
  'use strict';
  const params = new URLSearchParams(location.search);

  // ?upload=websocket (the engine build's choice, harness.engines): artifacts go over one WebSocket per
  // page, one at a time, as the server's /results-ws expects. Firefox under WebDriver BiDi observes every
  // HTTP body: 64 MB posted at 53 MB/s by fetch, 177 MB/s over a WebSocket (bare Firefox: 124 and 215).
  const CHUNK = 1 << 20;
  let socket = null;  // a promise of the open WebSocket
  let queue = Promise.resolve();

  function openSocket() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/results-ws`);
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => resolve(ws);
      ws.onerror = () => reject(new Error('the WebSocket to the harness did not open'));
    });
  }

  async function sendOverSocket(token, name, bytes) {
    const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    socket = socket || openSocket();
    const ws = await socket;
    const reply = new Promise((resolve, reject) => {
      ws.onmessage = event => resolve(JSON.parse(event.data));
      ws.onclose = () => reject(new Error('the WebSocket to the harness closed'));
    });
    ws.send(JSON.stringify({token, name, size: view.byteLength}));
    for (let offset = 0; offset < view.byteLength; offset += CHUNK) ws.send(view.subarray(offset, offset + CHUNK));
    let answer;
    try { answer = await reply; } catch (e) { socket = null; throw e; }
    if (answer.error) { socket = null; throw new Error(`posting ${name} to the harness failed: ${answer.error}`); }
  }

  function browserEnv(token) {
    return {
      async post(name, bytes) {
        if (params.get('upload') === 'websocket') {
          const sent = queue.then(() => sendOverSocket(token, name, bytes));
          queue = sent.catch(() => {});
          return sent;
        }
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
    ...harnessProbes.steps,  // one io promise each, made directly (harness.schemes.promises)
    // Nothing but the version and backend: used to check the page itself.
    info: async (tf) => ({tfjs: tf.version.tfjs, backend: tf.getBackend()}),
    // What the backend really is here: WebGL version and renderer, wasm SIMD and threads (harnessBackends).
    backendInfo: async (tf) => harnessBackends.describe(tf, window.harnessBackend),
    // Browser only: every key in localStorage and in the tensorflowjs IndexedDB database.
    storageKeys: async () => harnessStorage.keys(),
    forgetStorageItem: async (tf, env, args) => harnessStorage.forget(args.key),
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
      const deviceLost = harnessBackends.deviceLost();
      return {status: 'error', error: {name: (e && e.name) || 'Error', message: String((e && e.message) || e),
                                       phase: e && e.phase, stack: e && e.stack, ...(deviceLost ? {deviceLost} : {})},
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
