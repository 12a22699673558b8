// The steps of a browser global scope, whatever it is (a window, a frame, a dedicated, shared or service
// worker), and the `env` they get there: `harnessHost.runner({upload})` gives `run(name, args, files)`,
// which replies {status: "ok", result, elapsed_ms} or {status: "error", error: {name, message, phase}}.
// Artifacts go back to the harness server as binary bodies (/results/<token>/<name>) sent from this
// scope itself, never relayed through another.
(function (root) {
  'use strict';

  // upload "websocket" (the engine build's choice, harness.engines): artifacts go over one WebSocket per
  // scope, one at a time, as the server's /results-ws expects. Firefox under WebDriver BiDi observes every
  // HTTP body: 64 MB posted at 53 MB/s by fetch, 177 MB/s over a WebSocket (bare Firefox: 124 and 215).
  const CHUNK = 1 << 20;

  function uploader(mode) {
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

    return async function post(token, name, bytes) {
      if (mode === 'websocket') {
        const sent = queue.then(() => sendOverSocket(token, name, bytes));
        queue = sent.catch(() => {});
        return sent;
      }
      // A Blob body, not the bytes: Chromium under Playwright copies an ArrayBuffer body into CDP's
      // Network events (base64, through the driver): 64 MB took 68 s that way and 3.2 s as a Blob.
      const res = await fetch(`/results/${token}/${encodeURIComponent(name)}`, {method: 'POST', body: new Blob([bytes])});
      if (!res.ok) throw new Error(`posting ${name} to the harness failed: HTTP ${res.status} ${await res.text()}`);
    };
  }

  // `files`: the File objects a window relayed with the step (a worker or frame has no chooser of its
  // own the driver fills), else this document's <input type=file>.
  function browserEnv(post, token, files) {
    return {
      post: (name, bytes) => post(token, name, bytes),
      async fetchBytes(url) {
        const res = await fetch(url);
        if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
        return res.arrayBuffer();
      },
      inspectStorage: (what, send) => harnessStorage.inspect(what, send),
      files(inputId) {
        if (files) return files;
        if (typeof document === 'undefined') throw new Error('no files were chosen for this step');
        const input = document.getElementById(inputId);
        if (!input) throw new Error(`no <input type=file id=${inputId}> in the harness page`);
        return Array.from(input.files);
      },
    };
  }

  function runner({upload}) {
    const post = uploader(upload);
    const steps = {
      ...harnessSteps.steps,
      ...harnessProbes.steps,  // one io promise each, made directly (harness.schemes.promises)
      ...harnessHosting.steps,  // around a hosted model's load (harness.schemes.hosting)
      // Nothing but the version, backend and the kind of scope the steps run in: used to check the page itself.
      info: async (tf) => ({tfjs: tf.version.tfjs, backend: tf.getBackend(), scope: scopeName()}),
      // What the backend is here: WebGL version and renderer, wasm SIMD and threads (harnessBackends).
      backendInfo: async (tf) => harnessBackends.describe(tf, self.harnessBackend),
      // Every key in localStorage (where this scope has it) and in the tensorflowjs IndexedDB database.
      storageKeys: async () => harnessStorage.keys(),
      forgetStorageItem: async (tf, env, args) => harnessStorage.forget(args.key),
      clearStorage: async () => harnessStorage.clear(),
      storageFacts: async (tf, env, args) => harnessStorage.facts(args.persist !== false),
      // The site's own server clearing its data: a response with Clear-Site-Data: "storage" (harness.server).
      clearSiteData: async () => {
        const res = await fetch('/clear-site-data', {cache: 'no-store'});
        return {status: res.status, header: res.headers.get('Clear-Site-Data')};
      },
      ...harnessQuota.steps,
      ...harnessBench.steps,
    };

    return async function run(name, args, files) {
      const step = steps[name];
      if (!Object.prototype.hasOwnProperty.call(steps, name)) {
        return {status: 'error', error: {name: 'HarnessError', message: `no page step named ${name}`}};
      }
      const started = performance.now();  // the step's own time: the harness reports it as in-page time
      try {
        const result = await step(tf, browserEnv(post, args.token, files), args);
        return {status: 'ok', result, elapsed_ms: performance.now() - started};
      } catch (e) {
        const deviceLost = harnessBackends.deviceLost();
        return {status: 'error', error: {name: (e && e.name) || 'Error', message: String((e && e.message) || e),
                                         phase: e && e.phase, stack: e && e.stack, ...(deviceLost ? {deviceLost} : {})},
                elapsed_ms: performance.now() - started};
      }
    };
  }

  // Serve `run` on a MessagePort: requests {id, name, args, files} get {id, reply}. `ready` first: a
  // request {id, name: "__ready"} is answered once this scope's TF.js and backend are up (or why not);
  // {id, name: "__alive"} at once (harness/js/contexts.js asks it when __ready takes too long).
  // A reply the platform cannot clone (a SaveResult's Response objects) goes as its JSON, which is what a
  // driver gets from a window's reply anyway.
  function serve(port, ready, run) {
    // A backend that did not start here (the wasm backend in a service worker) leaves the context up: the
    // steps that never touch TF.js still run (what the scope is, its storage), and every other step fails
    // as a TF.js error of phase "backend", which the row reports; never on a backend TF.js fell back to.
    let failed = null;
    const started = ready.then(() => null, (e) => { failed = `${(e && e.name) || 'Error'}: ${(e && e.message) || e}`; });
    port.onmessage = async (event) => {
      const {id, name, args, files} = event.data || {};
      if (name === '__alive') {  // answered at once, backend or not: whether this scope's thread still runs
        port.postMessage({id, reply: {status: 'ok', result: {scope: scopeName()}}});
        return;
      }
      let reply;
      try {
        await started;
        if (name === '__ready') {
          reply = {status: 'ok', result: failed ? {scope: scopeName(), backendFailed: failed} : {...(await ready), scope: scopeName()}};
        } else if (failed && name === 'info') {
          reply = {status: 'ok', result: {scope: scopeName(), backendFailed: failed}};
        } else if (failed && name === 'backendInfo') {
          reply = {status: 'ok', result: {failed}};
        } else if (failed && !WITHOUT_TFJS.has(name)) {
          reply = {status: 'error', error: {name: 'BackendError', phase: 'backend', message: `the ${(self.harnessBackend || {}).name || 'row\'s'} backend `
                                            + `did not start in this ${scopeName()}: ${failed}`}};
        } else {
          reply = await run(name, args || {}, files || null);
        }
      } catch (e) {
        reply = {status: 'error', error: {name: (e && e.name) || 'Error', message: String((e && e.message) || e)}};
      }
      try {
        port.postMessage({id, reply});
      } catch (e) {
        port.postMessage({id, reply: JSON.parse(JSON.stringify(reply))});
      }
    };
    if (port.start) port.start();
  }
  const WITHOUT_TFJS = new Set(['storageKeys', 'forgetStorageItem', 'clearStorage', 'storageFacts', 'clearSiteData']);

  // What kind of global scope this is, as the platform says (not as the harness asked).
  function scopeName() {
    if (typeof ServiceWorkerGlobalScope !== 'undefined' && self instanceof ServiceWorkerGlobalScope) return 'service-worker';
    if (typeof SharedWorkerGlobalScope !== 'undefined' && self instanceof SharedWorkerGlobalScope) return 'shared-worker';
    if (typeof DedicatedWorkerGlobalScope !== 'undefined' && self instanceof DedicatedWorkerGlobalScope) return 'dedicated-worker';
    if (typeof window !== 'undefined') return window.parent !== window ? 'frame' : 'window';
    return 'unknown';
  }

  root.harnessHost = {runner, serve, scopeName};
})(self);
