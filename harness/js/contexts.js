// Opening, from the harness window, the context a row's steps run in (harness.contexts), and relaying the
// steps to it over a MessagePort: `harnessContexts.open(name, params)` resolves {ready, run(name, args)}.
// Each context runs the same steps (host.js) on its own TF.js: a worker loads /worker.js (TF.js and the
// harness scripts by importScripts), a frame loads the harness page itself.
(function (root) {
  'use strict';
  const FILE_INPUT = 'harness-files';  // the chooser a driver fills (page.html); its files go with each step
  const READY_S = 60;

  function relay(port, what) {
    let next = 0;
    const waiting = new Map();
    port.onmessage = (event) => {
      const {id, reply} = event.data || {};
      const resolve = waiting.get(id);
      waiting.delete(id);
      if (resolve) resolve(reply);
    };
    if (port.start) port.start();
    function run(name, args) {
      const id = next++;
      const input = document.getElementById(FILE_INPUT);
      const files = input && input.files.length ? Array.from(input.files) : null;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        port.postMessage({id, name, args, files});
      });
    }
    // The context's TF.js and backend, or why it did not come up; within READY_S.
    const ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the ${what} gave no answer within ${READY_S} s`)), READY_S * 1000);
      run('__ready', {}).then((reply) => {
        clearTimeout(timer);
        if (reply.status === 'ok') resolve(reply.result);
        else reject(new Error(`the ${what} did not come up: ${reply.error.name}: ${reply.error.message}`));
      });
    });
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
      const channel = new MessageChannel();
      worker.postMessage({harnessConnect: true}, [channel.port2]);
      return withFailure([channel.port1, 'dedicated worker'], failed(worker, 'dedicated worker'));
    },
    async 'shared-worker'(params) {
      if (typeof SharedWorker === 'undefined') throw new Error('this engine has no SharedWorker');
      const worker = new SharedWorker(workerUrl(params), {name: 'harness'});
      return withFailure([worker.port, 'shared worker'], failed(worker, 'shared worker'));
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

  root.harnessContexts = {open};
})(self);
