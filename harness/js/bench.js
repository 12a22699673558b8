// Benchmark steps (harness/bench.py): the raw medium beside TF.js, with the same bytes. Shared by the
// browser page (window.harnessBench, registered in page.js) and Node (node_host.js), like steps.js.
// TF.js itself is timed by steps.js's own `save` ('save' phase) and `fingerprint` ('load' phase) steps;
// these steps time what a user's code would do with the medium directly.
//
//   benchPrepare {fixture, base64, deadline}
//                                    fetch the golden's model.json and shards, keep the weights (one
//                                    ArrayBuffer, the bytes TF.js saves) and, for localStorage, their
//                                    base64 string; replies their SHA-256 (untimed)
//   benchRaw {medium, op, key|url|path, deadline}
//                                    one timed raw save or load: {seconds, bytes}
//   benchFree {clearLocalStorage, key}
//                                    between runs: tf.disposeVariables() (the `save` step keeps its model),
//                                    revoke this page's blob URLs, empty localStorage of TF.js's and raw keys
//   benchPost {bytes, deadline}      time env.post of one artifact of `bytes` bytes (the harness's own
//                                    page -> Python transfer): {seconds, bytes}
//
// Raw times use performance.now(): 0.1 ms steps in Chromium, 1 ms in Firefox and WebKit (the harness page is
// not cross-origin isolated), finer in Node; steps.js's TF.js timings use Date.now() (1 ms).
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory(require('./steps.js'));
  else root.harnessBench = factory(root.harnessSteps);
})(typeof self !== 'undefined' ? self : this, function (harnessSteps) {
  'use strict';

  const RAW_DB = 'harness-bench';  // the raw IndexedDB medium: a database of its own, never TF.js's
  const RAW_STORE = 'raw';
  const LS_PREFIX = 'tensorflowjs_models/';  // TF.js's localStorage keys (local_storage.ts)
  const state = {bytes: null, json: null, base64: null, db: null, urls: []};

  const clock = (typeof performance !== 'undefined' && performance.now) ? () => performance.now() : () => Date.now();

  const {withDeadline} = harnessSteps;  // a promise, or DeadlineExceeded once `seconds` pass unsettled

  function toBase64(bytes) {
    if (typeof Buffer !== 'undefined') return Buffer.from(bytes).toString('base64');
    const u8 = new Uint8Array(bytes);
    const parts = [];
    for (let i = 0; i < u8.length; i += 0x8000) parts.push(String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000)));
    return btoa(parts.join(''));
  }

  async function sha256(bytes) {
    const digest = await crypto.subtle.digest('SHA-256', bytes);
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function need(what) {
    if (state.bytes === null) throw new Error(`bench: ${what} before benchPrepare`);
  }

  // The golden's model.json and all its shards, in manifest order: the weight bytes TF.js saves.
  async function benchPrepare(tf, env, args) {
    return withDeadline(prepare(env, args), args.deadline, 'benchPrepare');
  }

  async function prepare(env, args) {
    const jsonBytes = await env.fetchBytes(args.fixture);
    state.json = new TextDecoder().decode(jsonBytes);
    const model = JSON.parse(state.json);
    const shards = [];
    for (const group of model.weightsManifest || []) {
      for (const p of group.paths) shards.push(new Uint8Array(await env.fetchBytes(new URL(p, args.fixture).href)));
    }
    const out = new Uint8Array(shards.reduce((n, s) => n + s.byteLength, 0));
    let at = 0;
    for (const s of shards) { out.set(s, at); at += s.byteLength; }
    state.bytes = out.buffer;
    state.base64 = args.base64 ? toBase64(state.bytes) : null;
    return {bytes: state.bytes.byteLength, sha256: await sha256(state.bytes),
            base64Chars: state.base64 === null ? null : state.base64.length};
  }

  function request(req) {
    return new Promise((resolve, reject) => {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async function rawDb() {
    if (state.db === null) {
      const open = indexedDB.open(RAW_DB, 1);
      open.onupgradeneeded = () => open.result.createObjectStore(RAW_STORE);
      state.db = await request(open);
    }
    return state.db;
  }

  // One transaction: its result once 'complete' fires, its error if it aborts.
  function transaction(db, mode, body) {
    return new Promise((resolve, reject) => {
      let tx;
      let result;
      try {
        tx = db.transaction(RAW_STORE, mode);
        const req = body(tx.objectStore(RAW_STORE));
        req.onsuccess = () => { result = req.result; };
      } catch (e) {
        reject(e);
        return;
      }
      tx.oncomplete = () => resolve(result);
      tx.onabort = () => reject(tx.error || new Error('the IndexedDB transaction aborted'));
    });
  }

  function defer(f) {  // as TF.js's BrowserDownloads: each click after a macrotask
    return new Promise((resolve) => setTimeout(resolve)).then(f);
  }

  function fsModule() {
    if (typeof require !== 'function') throw new Error('fs is only available in Node');
    return require('fs');
  }

  // Untimed set-up of one raw operation; returns the timed part (an async function giving the byte count).
  async function rawOperation(medium, op, args) {
    need(`${medium} ${op}`);
    const size = state.bytes.byteLength;
    switch (`${medium} ${op}`) {
      case 'localstorage save':
        if (state.base64 === null) throw new Error('bench: benchPrepare was not asked for the base64 string');
        return async () => { localStorage.setItem(args.key, state.base64); return size; };
      case 'localstorage load':
        return async () => {
          const text = localStorage.getItem(args.key);
          if (text === null || text.length !== state.base64.length) {
            throw new Error(`localStorage ${args.key}: ${text === null ? 'missing' : `${text.length} characters`}, ` +
                            `expected ${state.base64.length}`);
          }
          return size;
        };
      case 'indexeddb save': {
        const db = await rawDb();
        return async () => { await transaction(db, 'readwrite', (store) => store.put(state.bytes, args.key)); return size; };
      }
      case 'indexeddb load': {
        const db = await rawDb();
        return async () => {
          const value = await transaction(db, 'readonly', (store) => store.get(args.key));
          if (!(value instanceof ArrayBuffer)) throw new Error(`IndexedDB ${args.key}: got ${Object.prototype.toString.call(value)}`);
          return value.byteLength;
        };
      }
      case 'http save':  // as TF.js's http handler: multipart FormData, the weights as one Blob
        return async () => {
          const body = new FormData();
          body.append('model.weights.bin', new Blob([state.bytes], {type: 'application/octet-stream'}), 'model.weights.bin');
          const res = await fetch(args.url, {method: 'POST', body});
          if (!res.ok) throw new Error(`POST ${args.url}: HTTP ${res.status} ${await res.text()}`);
          return size;
        };
      case 'http load':
        return async () => {
          const res = await fetch(args.url);
          if (!res.ok) throw new Error(`GET ${args.url}: HTTP ${res.status}`);
          return (await res.arrayBuffer()).byteLength;
        };
      case 'downloads save':  // as TF.js's BrowserDownloads.save: two blob URLs, two <a download> clicks
        return async () => {
          const weightsUrl = URL.createObjectURL(new Blob([state.bytes], {type: 'application/octet-stream'}));
          const jsonUrl = URL.createObjectURL(new Blob([state.json], {type: 'application/json'}));
          state.urls.push(weightsUrl, jsonUrl);
          const json = document.createElement('a');
          json.download = `${args.key}.json`;
          json.href = jsonUrl;
          await defer(() => json.dispatchEvent(new MouseEvent('click')));
          const weights = document.createElement('a');
          weights.download = `${args.key}.weights.bin`;
          weights.href = weightsUrl;
          await defer(() => weights.dispatchEvent(new MouseEvent('click')));
          return size;
        };
      case 'file save': {
        const fs = fsModule();
        await fs.promises.mkdir(require('path').dirname(args.path), {recursive: true});
        return async () => { await fs.promises.writeFile(args.path, new Uint8Array(state.bytes)); return size; };
      }
      case 'file load': {
        const fs = fsModule();
        return async () => (await fs.promises.readFile(args.path)).byteLength;
      }
      default:
        throw new Error(`bench: no raw ${op} for medium ${medium}`);
    }
  }

  async function benchRaw(tf, env, args) {
    const operation = await withDeadline(rawOperation(args.medium, args.op, args), args.deadline,
                                         `raw ${args.medium} ${args.op} (set-up)`);
    const t0 = clock();
    const bytes = await withDeadline(operation(), args.deadline, `raw ${args.medium} ${args.op}`);
    const seconds = (clock() - t0) / 1000;
    if (bytes !== state.bytes.byteLength) {
      throw new Error(`raw ${args.medium} ${args.op}: ${bytes} bytes, expected ${state.bytes.byteLength}`);
    }
    return {seconds, bytes};
  }

  async function benchFree(tf, env, args) {
    tf.disposeVariables();  // the `save` step never disposes the model it loaded
    for (const url of state.urls.splice(0)) URL.revokeObjectURL(url);
    if (args.clearLocalStorage) {
      const keys = [];
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i);
        if (key.startsWith(LS_PREFIX) || key === args.key) keys.push(key);
      }
      for (const key of keys) localStorage.removeItem(key);
    }
    return {tensorBytes: tf.memory().numBytes};
  }

  async function benchPost(tf, env, args) {
    const bytes = new Uint8Array(args.bytes);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i & 255;
    const t0 = clock();
    await withDeadline(env.post(args.name || 'transfer.bin', bytes), args.deadline, 'env.post');
    return {seconds: (clock() - t0) / 1000, bytes: bytes.byteLength};
  }

  return {steps: {benchPrepare, benchRaw, benchFree, benchPost}};
});
