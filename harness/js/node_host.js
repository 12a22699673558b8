// The Node host of the harness steps (harness/js/steps.js): what page.js is to a browser.
//
//   node harness/js/node_host.js --server http://127.0.0.1:PORT [--backend cpu] [--backend-config JSON] [--tfjs MODULE]
//
// --backend-config: harness.backends' record {name, base, flags} (the flags set with tf.env() first);
// base "wasm" requires @tensorflow/tfjs-backend-wasm next to the main TF.js (it registers on the
// @tensorflow/tfjs-core that @tensorflow/tfjs uses).
//
// --tfjs: another TF.js to run (a package name such as tfjs-3.21.0, an npm alias of package.json, or
// the absolute path of a UMD bundle); tfjs-node's file:// handler is registered into it.
//
// --context worker-thread: the steps run in a worker_threads Worker of this process (this same file, on its
// own TF.js), and the main thread only relays the protocol lines (harness.contexts).
//
// First stdout line: {"ready": {tfjs, backend, node, fileSystem}}  (or {"failed": {name, message, stack}}).
// Then one JSON request per stdin line, {"id": N, "step": NAME, "args": {...}}, and one JSON reply per
// stdout line, {"id": N, "status": "ok", "result": ...} or {"id": N, "status": "error", "error": {name,
// message, phase, stack}}: the reply of the browser's `harness.run`. Requests may overlap; replies carry
// their id. Closing stdin ends the process.
//
// TF.js: full `@tensorflow/tfjs-node` when its native binding is installed and loads (it registers its
// own file:// router); otherwise the pure-JS `@tensorflow/tfjs` plus tfjs-node's real file:// handler,
// required on its own (`dist/io/file_system` needs only @tensorflow/tfjs, fs, path, util and ./io_utils;
// it never touches the binding) and registered as tfjs-node's index.js registers it.
'use strict';

const path = require('path');
const fs = require('fs');

// stdout carries the protocol only: whatever TF.js (or anything else) logs goes to stderr.
const writeProtocol = process.stdout.write.bind(process.stdout);
const toStderr = (...xs) => console.error(...xs);
console.log = console.info = console.warn = console.debug = toStderr;
process.stdout.write = (chunk, encoding, cb) => process.stderr.write(chunk, encoding, cb);
// The harness closed its end: nothing left to answer.
process.stdout.on('error', () => process.exit(0));

const threads = require('worker_threads');

// In a worker thread the protocol goes to the main thread, which writes it out.
function send(obj) {
  if (threads.isMainThread) writeProtocol(JSON.stringify(obj) + '\n');
  else threads.parentPort.postMessage(JSON.stringify(obj));
}

function errorRecord(e) {
  return {name: (e && e.name) || 'Error', message: String((e && e.message) || e),
          phase: e && e.phase, stack: e && e.stack};
}

function parseArgv(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`node_host.js: unexpected argument ${argv[i]}`);
    out[m[1]] = m[2] !== undefined ? m[2] : argv[++i];
  }
  return out;
}

const options = threads.isMainThread ? parseArgv(process.argv.slice(2)) : threads.workerData.options;
const server = (options.server || process.env.HARNESS_SERVER || '').replace(/\/$/, '');
const backend = options.backend || process.env.HARNESS_BACKEND || 'cpu';
const backendConfig = options['backend-config'] ? JSON.parse(options['backend-config'])
  : {name: backend, base: backend, flags: {}};
// auto: native tfjs-node if its binding is there and loads; js: never try the binding.
const nativeMode = options['tfjs-node'] || process.env.HARNESS_TFJS_NODE || 'auto';
const tfjsModule = options.tfjs || '@tensorflow/tfjs';

// Where tfjs-node's index.js looks for its binding (node-pre-gyp), checked before requiring it: a failed
// `require('@tensorflow/tfjs-node')` has already registered its kernels and required its modules.
function nativeBindingPath() {
  try {
    const pkg = require.resolve('@tensorflow/tfjs-node/package.json');
    const found = require('@mapbox/node-pre-gyp').find(pkg);
    return fs.existsSync(found) ? found : null;
  } catch (e) {
    return null;
  }
}

function loadTf() {
  const notes = [];
  if (tfjsModule !== '@tensorflow/tfjs') {
    const tf = require(tfjsModule);
    const {nodeFileSystemRouter} = require('@tensorflow/tfjs-node/dist/io/file_system');
    tf.io.registerLoadRouter(nodeFileSystemRouter);
    tf.io.registerSaveRouter(nodeFileSystemRouter);
    return {tf, fileSystem: `tfjs-node ${require('@tensorflow/tfjs-node/package.json').version} (js only, its file:// handler)`, notes};
  }
  if (nativeMode !== 'js') {
    const binding = nativeBindingPath();
    if (binding) {
      try {
        return {tf: require('@tensorflow/tfjs-node'), fileSystem: 'tfjs-node (native)', notes};
      } catch (e) {
        notes.push(`tfjs-node native binding at ${binding} did not load: ${e.message}`);
      }
    } else {
      notes.push('tfjs-node native binding not installed');
    }
  }
  const tf = require('@tensorflow/tfjs');
  const {nodeFileSystemRouter} = require('@tensorflow/tfjs-node/dist/io/file_system');
  tf.io.registerLoadRouter(nodeFileSystemRouter);
  tf.io.registerSaveRouter(nodeFileSystemRouter);
  return {tf, fileSystem: 'tfjs-node (js only)', notes};
}

function resolveUrl(url) {
  return server ? new URL(url, server + '/').href : url;
}

function nodeEnv(args) {
  const origin = (args.server || server).replace(/\/$/, '');
  return {
    async post(name, bytes) {
      if (!origin) throw new Error('no harness server: pass --server or args.server');
      const url = `${origin}/results/${args.token}/${encodeURIComponent(name)}`;
      const res = await fetch(url, {method: 'POST', body: bytes});
      if (!res.ok) throw new Error(`posting ${name} to the harness failed: HTTP ${res.status} ${await res.text()}`);
    },
    async fetchBytes(url) {
      const res = await fetch(resolveUrl(url));
      if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
      return res.arrayBuffer();
    },
    // No inspectStorage and no files: those are browser-only.
  };
}

async function main() {
  let tf, steps;
  try {
    const loaded = loadTf();
    tf = loaded.tf;
    if (backendConfig.base === 'wasm') {
      if (tfjsModule !== '@tensorflow/tfjs') {
        throw new Error(`the wasm backend runs in Node only with the main @tensorflow/tfjs, not ${tfjsModule}`);
      }
      require('@tensorflow/tfjs-backend-wasm');  // registers the 'wasm' backend on tfjs-core
    }
    await require(path.join(__dirname, 'backends.js')).use(tf, backendConfig);
    const shared = require(path.join(__dirname, 'steps.js'));
    steps = {
      ...shared.steps,
      ...require(path.join(__dirname, 'probes.js')).steps,  // one io promise each (harness.schemes.promises)
      ...require(path.join(__dirname, 'hosting.js')).steps,  // around a hosted model's load (harness.schemes.hosting)
      ...require(path.join(__dirname, 'bench.js')).steps,  // harness/bench.py's raw media
      info: async (tf) => ({tfjs: tf.version.tfjs, backend: tf.getBackend(),
                            scope: threads.isMainThread ? 'main' : 'worker-thread'}),
      backendInfo: async (tf) => require(path.join(__dirname, 'backends.js')).describe(tf, backendConfig),
    };
    send({ready: {tfjs: tf.version.tfjs, backend: tf.getBackend(), node: process.version,
                  fileSystem: loaded.fileSystem, notes: loaded.notes,
                  thread: threads.isMainThread ? 'main' : 'worker-thread'}});
  } catch (e) {
    send({failed: errorRecord(e)});
    process.exitCode = 1;
    return;
  }

  async function handle(line) {
    let request;
    try {
      request = JSON.parse(line);
    } catch (e) {
      send({id: null, status: 'error', error: {name: 'HarnessError', message: `bad request line: ${e.message}`}});
      return;
    }
    const {id, step: name, args = {}} = request;
    if (!Object.prototype.hasOwnProperty.call(steps, name)) {
      send({id, status: 'error', error: {name: 'HarnessError', message: `no node step named ${name}`}});
      return;
    }
    let reply;
    const started = performance.now();  // the step's own time: the harness reports it as in-page time
    try {
      reply = {id, status: 'ok', result: await steps[name](tf, nodeEnv(args), args)};
    } catch (e) {
      reply = {id, status: 'error', error: errorRecord(e)};
    }
    reply.elapsed_ms = performance.now() - started;
    try {
      send(reply);
    } catch (e) {  // e.g. a result JSON.stringify cannot encode (BigInt, cycles)
      send({id, status: 'error', error: {name: 'HarnessError', message: `reply not serialisable: ${e.message}`}});
    }
  }

  if (!threads.isMainThread) {
    threads.parentPort.on('message', (line) => handle(line));
    return;
  }
  readLines(handle);
}

function readLines(onLine) {
  const rl = require('readline').createInterface({input: process.stdin, crlfDelay: Infinity});
  rl.on('line', (line) => { if (line.trim()) onLine(line); });
  rl.on('close', () => process.exit(0));
}

// The main thread of a worker-thread host: start the Worker, relay stdin lines to it and its lines out.
function relayToWorker() {
  const worker = new threads.Worker(__filename, {workerData: {options}});
  worker.on('message', (line) => writeProtocol(line + '\n'));
  worker.on('error', (e) => send({failed: {...errorRecord(e), phase: 'worker-thread'}}));
  worker.on('exit', (code) => { if (code) process.exit(code); });
  readLines((line) => worker.postMessage(line));
}

// As in a page: a stray rejection or exception is logged, not fatal.
process.on('unhandledRejection', (e) => console.error('[unhandledRejection]', e));
process.on('uncaughtException', (e) => console.error('[uncaughtException]', e));

if (threads.isMainThread && options.context === 'worker-thread') relayToWorker();
else if (threads.isMainThread && options.context && options.context !== 'window') {
  send({failed: {name: 'HarnessError', message: `no context ${options.context} in Node; known: window, worker-thread`}});
  process.exitCode = 1;
} else main();
