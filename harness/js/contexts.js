// Opening, from the harness window, the context a row's steps run in (harness.contexts), and relaying the
// steps to it over a MessagePort: `harnessContexts.open(name, params)` resolves {ready, run(name, args)}.
// Each context runs the same steps (host.js) on its own TF.js: a worker loads /worker.js (TF.js and the
// harness scripts by importScripts), a frame loads the harness page itself.
(function (root) {
  'use strict';
  const FILE_INPUT = 'harness-files';  // the chooser a driver fills (page.html); its files go with each step
  const READY_S = 40;  // below the driver's own wait for the page (harness.trip.timeouts.PAGE_OPEN_S, 60 s)
  const ALIVE_S = 5;

  // The relay to a context over `port`. `stop()`, where given, ends it (a worker's terminate, a shared
  // worker's port close);
  // `hello`, a promise of what a worker said it is as its script began (worker_host.js), before any port;
  // `readyS` and `aliveS` the waits (tests shorten them).
  function relay(port, what, {stop, hello, readyS = READY_S, aliveS = ALIVE_S} = {}) {
    let next = 0;
    let gone = null;  // {scope, why}: the context stopped answering and was stopped; later steps fail at once
    const waiting = new Map();
    port.onmessage = (event) => {
      const {id, reply} = event.data || {};
      const resolve = waiting.get(id);
      waiting.delete(id);
      if (resolve) resolve(reply);
    };
    if (port.start) port.start();
    function run(name, args) {
      if (gone) return Promise.resolve(goneReply(name));
      const id = next++;
      const input = typeof document !== 'undefined' && document.getElementById(FILE_INPUT);
      const files = input && input.files.length ? Array.from(input.files) : null;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        port.postMessage({id, name, args, files});
      });
    }
    // A stopped context's replies: what host.js serve answers for a backend that did not start.
    function goneReply(name) {
      if (name === 'info') return {status: 'ok', result: {scope: gone.scope, backendFailed: gone.why}};
      if (name === 'backendInfo') return {status: 'ok', result: {failed: gone.why}};
      return {status: 'error', error: {name: 'BackendError', phase: 'backend', message: `the ${what} was stopped: ${gone.why}`}};
    }
    const within = (promise, seconds) => Promise.race([promise, new Promise((resolve) => setTimeout(resolve, seconds * 1000, null))]);
    // What the context says it is, asked at once: a scope answers __alive while its backend starts.
    const alive = within(Promise.race([run('__alive', {}), ...(hello ? [hello] : [])]), readyS);
    // The context's TF.js and backend, or why it did not come up; within readyS. A context that said what
    // it is and then stops answering while its backend starts (its thread blocked: Firefox's wasm threads
    // in a dedicated worker) is up without a backend, as one whose backend failed (host.js serve): the
    // row reports it; the harness stops the context, so the steps after it fail at once.
    const ready = (async () => {
      const reply = await within(run('__ready', {}), readyS);
      if (reply) {
        if (reply.status === 'ok') return reply.result;
        throw new Error(`the ${what} did not come up: ${reply.error.name}: ${reply.error.message}`);
      }
      const said = await alive;
      if (!said || said.status !== 'ok') throw new Error(`the ${what} gave no answer within ${readyS} s`);
      const still = await within(run('__alive', {}), aliveS);
      const why = still
        ? `its TF.js backend had not started after ${readyS} s (tf.setBackend never settled)`
        : `it stopped answering while its TF.js backend started: no reply to __ready within ${readyS} s, `
          + `none to a ping within ${aliveS} s (its thread is blocked)`;
      if (stop) stop();  // its steps would wait for that backend for ever
      gone = {scope: said.result.scope, why};
      return {scope: said.result.scope, backendFailed: why};
    })();
    return {ready, run};
  }

  // A worker's script failing to load or run fires `error` on its object, with no port reply ever.
  function failed(target, what) {
    return new Promise((resolve, reject) => {
      target.addEventListener('error', (event) => {
        reject(new Error(`the ${what} failed to start: ${event.message || 'its script did not load or threw'}`));
      });
    });
  }

  function workerUrl(params) {
    const query = new URLSearchParams({tfjs: params.get('tfjs') || '', backend: params.get('backend') || 'cpu'});
    if (params.get('upload')) query.set('upload', params.get('upload'));
    return `/worker.js?${query}`;
  }

  function frameUrl(origin, params) {
    const query = new URLSearchParams(params);
    query.delete('context');
    query.set('frame', '1');
    return `${origin}/page?${query}`;
  }

  async function withFailure(opened, failure) {
    const r = relay(...opened);
    return {run: r.run, ready: Promise.race([r.ready, failure])};
  }

  const OPEN = {
    async 'dedicated-worker'(params) {
      const worker = new Worker(workerUrl(params));
      const hello = new Promise((resolve) => worker.addEventListener('message', (event) => {
        if (event.data && event.data.harnessScope) resolve({status: 'ok', result: {scope: event.data.harnessScope}});
      }));
      const channel = new MessageChannel();
      worker.postMessage({harnessConnect: true}, [channel.port2]);
      return withFailure([channel.port1, 'dedicated worker', {stop: () => worker.terminate(), hello}], failed(worker, 'dedicated worker'));
    },
    async 'shared-worker'(params) {
      if (typeof SharedWorker === 'undefined') throw new Error('this engine has no SharedWorker');
      const worker = new SharedWorker(workerUrl(params), {name: 'harness'});
      return withFailure([worker.port, 'shared worker', {stop: () => worker.port.close()}], failed(worker, 'shared worker'));
    },
    async 'service-worker'(params) {
      if (!navigator.serviceWorker) throw new Error('navigator.serviceWorker is absent here');
      const scope = `/sw/${encodeURIComponent(params.get('tfjs') || '')}/${params.get('backend') || 'cpu'}/`;
      const registration = await navigator.serviceWorker.register(workerUrl(params), {scope});
      const worker = registration.installing || registration.waiting || registration.active;
      if (worker.state !== 'activated') {
        await new Promise((resolve, reject) => {
          worker.addEventListener('statechange', () => {
            if (worker.state === 'activated') resolve();
            if (worker.state === 'redundant') reject(new Error('the service worker became redundant before it activated (its script failed?)'));
          });
        });
      }
      const channel = new MessageChannel();
      registration.active.postMessage({harnessConnect: true}, [channel.port2]);
      return relay(channel.port1, 'service worker');
    },
    'iframe-same-origin': (params) => frame(location.origin, params, 'same-origin frame'),
    'iframe-cross-site': (params) => {
      const origin = (window.harnessOrigins || {}).crossSite;
      if (!origin) throw new Error('the harness server has no second site to frame (harnessOrigins.crossSite)');
      return frame(origin, params, `cross-site frame (${origin})`);
    },
  };

  async function frame(origin, params, what) {
    const iframe = document.createElement('iframe');
    const loaded = new Promise((resolve) => {
      window.addEventListener('message', function onMessage(event) {
        if (event.source === iframe.contentWindow && event.data && event.data.harnessFrame === 'loaded') {
          window.removeEventListener('message', onMessage);
          resolve();
        }
      });
    });
    iframe.src = frameUrl(origin, params);
    document.body.appendChild(iframe);
    const timeout = new Promise((resolve, reject) => setTimeout(
      () => reject(new Error(`the ${what} did not load within ${READY_S} s`)), READY_S * 1000));
    await Promise.race([loaded, timeout]);
    const channel = new MessageChannel();
    iframe.contentWindow.postMessage({harnessConnect: true}, origin, [channel.port2]);
    return relay(channel.port1, what);
  }

  async function open(name, params) {
    const opener = OPEN[name];
    if (!opener) throw new Error(`unknown context ${name}; known: window, ${Object.keys(OPEN).join(', ')}`);
    return opener(params);
  }

  root.harnessContexts = {open, relay};  // relay: for tests (tests/test_context_axis.py)
})(self);
