// Quota steps (browser only): what the storage can still take, and filling it with the storage
// APIs themselves so that only a given amount is left, the state a user's origin is in when a save
// hits the quota. Filler lives apart from TF.js's data: localStorage keys under
// harnessStorage.FILLER, IndexedDB database harnessStorage.FILLER_DB.
(function (root) {
  'use strict';
  const FILLER = root.harnessStorage.FILLER;
  const FILLER_DB = root.harnessStorage.FILLER_DB;

  function errorText(e) {
    return `${(e && e.name) || 'Error'}: ${(e && e.message) || e}`;
  }

  // navigator.storage.estimate(), where the engine has it.
  async function estimate() {
    if (!(self.navigator && navigator.storage && navigator.storage.estimate)) {
      return {missing: 'navigator.storage.estimate is not available in this engine'};
    }
    const {quota, usage, usageDetails} = await navigator.storage.estimate();
    return {quota, usage, usageDetails: usageDetails || null};
  }

  // Fill localStorage until setItem throws (halving the chunk down to one character), then give
  // back `leave` characters (key + value characters, as the ~5 MiB limit counts them).
  // leave = 0: full. Replies {capacity, left, filled, keys, error, full}.
  async function fillLocalStorage(tf, env, {leave = 0}) {
    let chunk = 1 << 20;
    const text = 'x'.repeat(chunk);
    let i = 0;
    let written = 0;
    let error = null;
    while (chunk >= 1) {
      const key = FILLER + i;
      try {
        localStorage.setItem(key, text.slice(0, chunk));
        written += key.length + chunk;
        i++;
      } catch (e) {
        if (error === null) error = errorText(e);
        chunk = Math.floor(chunk / 2);
      }
    }
    let freed = 0;
    while (freed < leave && i > 0) {
      i--;
      const key = FILLER + i;
      freed += key.length + localStorage.getItem(key).length;
      localStorage.removeItem(key);
    }
    const back = freed - leave - (FILLER + i).length;  // freed more than asked: write the rest back
    if (back > 0) {
      localStorage.setItem(FILLER + i, text.slice(0, back));
      freed -= (FILLER + i).length + back;
      i++;
    }
    return {capacity: written, left: freed, filled: written - freed, keys: i, error, full: error !== null && freed === 0};
  }

  function request(req) {
    return new Promise((resolve, reject) => {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  // `bytes` of pseudo-random data (xorshift32): an engine that compresses IndexedDB values (Firefox
  // stores them snappy-compressed) must not store a chunk of zeros in nothing (measured: 8 MB of zero
  // ArrayBuffers went into a 4 MB Firefox quota without a refusal).
  function incompressible(bytes, seed) {
    const words = new Uint32Array(Math.ceil(bytes / 4));
    let x = (seed * 2654435761) >>> 0 || 1;
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13; x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5; x >>>= 0;
      words[i] = x;
    }
    return words.buffer.slice(0, bytes);
  }

  // One put in its own transaction: 'complete', or the abort's error, or 'hang' after `deadline` s.
  function put(db, key, bytes, deadline) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({hang: true}), deadline * 1000);
      const done = (result) => { clearTimeout(timer); resolve(result); };
      let tx;
      try {
        tx = db.transaction('filler', 'readwrite');
        tx.objectStore('filler').put(incompressible(bytes, key + 1), key);
      } catch (e) {
        return done({error: errorText(e)});
      }
      tx.oncomplete = () => done({ok: true});
      tx.onabort = () => done({error: errorText(tx.error)});
    });
  }

  // Fill IndexedDB (a database of its own) with incompressible ArrayBuffers until a transaction is refused,
  // halving the chunk down to 4 KiB, or until `limit` bytes are written (an engine whose quota
  // caps single writes, not the total, never fills). Replies {written, full, hang, error}.
  async function fillIndexedDB(tf, env, {limit, deadline = 10}) {
    const open = indexedDB.open(FILLER_DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore('filler');
    const db = await request(open);
    let chunk = 16 << 20;
    let key = 0;
    let written = 0;
    let error = null;
    let hang = false;
    try {
      while (chunk >= 4096 && written < limit) {
        const r = await put(db, key, Math.min(chunk, limit - written), deadline);
        if (r.ok) {
          written += Math.min(chunk, limit - written);
          key++;
        } else {
          if (r.hang) hang = true;
          if (error === null) error = r.hang ? `a put of ${chunk} bytes neither completed nor aborted within ${deadline} s` : r.error;
          if (r.hang) break;  // a stuck transaction holds the store: nothing more can be written
          chunk = Math.floor(chunk / 2);
        }
      }
    } finally {
      db.close();
    }
    return {written, full: written < limit, hang, error};
  }

  root.harnessQuota = {steps: {estimate, fillLocalStorage, fillIndexedDB}};
})(self);
