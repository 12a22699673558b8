// Check golden fixtures against TF.js in Node (no browser):
//   NODE_PATH=node_modules node harness/golden/tfjs_check.js fixtures [MODEL ...]
// For each model: serve fixtures/ over http on 127.0.0.1, tf.loadLayersModel() it (the same
// http handler a page uses), save it with tf.io.withSaveHandler (default config, and
// {includeOptimizer: true}), and compare with the golden: every model.json field but the
// manifest (after TF.js's own rewrites: generatedBy, convertedBy, keras_version, backend),
// modelTopology key order, weight specs, weight bytes (exact), and predict() on the golden
// inputs against the golden outputs (max abs / rel error; within examples.json tolerance?).
// Prints one JSON report {tfjs, models: {name: {...}}} on stdout.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const tf = require('@tensorflow/tfjs');

const REWRITES = (v) => ({generatedBy: `TensorFlow.js tfjs-layers v${v}`, convertedBy: null});

function diffJson(expected, actual, where, out) {
  if (expected && actual && typeof expected === 'object' && typeof actual === 'object' &&
      Array.isArray(expected) === Array.isArray(actual)) {
    if (Array.isArray(expected)) {
      if (expected.length !== actual.length) {
        out.push({path: where, expected: expected.length + ' items', actual: actual.length + ' items'});
        return out;
      }
      expected.forEach((e, i) => diffJson(e, actual[i], `${where}[${i}]`, out));
      return out;
    }
    for (const k of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      if (!(k in actual)) out.push({path: `${where}.${k}`, expected: expected[k], actual: '<missing>'});
      else if (!(k in expected)) out.push({path: `${where}.${k}`, expected: '<absent>', actual: actual[k]});
      else diffJson(expected[k], actual[k], `${where}.${k}`, out);
    }
    return out;
  }
  if (!Object.is(expected, actual) && !(expected === 0 && actual === 0)) out.push({path: where, expected, actual});
  return out;
}

function serve(root) {
  const server = http.createServer((req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    fs.readFile(file, (err, data) => {
      if (err) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, {'Content-Type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream'});
      res.end(data);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function join(weightData) {
  if (weightData == null) return new Uint8Array(0);
  if (Array.isArray(weightData)) return new Uint8Array(tf.io.CompositeArrayBuffer.join(weightData));
  return new Uint8Array(weightData);
}

async function capture(model, config) {
  let artifacts = null;
  await model.save(tf.io.withSaveHandler(async (a) => { artifacts = a; return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}}; }), config);
  const {weightData, ...rest} = artifacts;
  return {json: rest, bytes: join(weightData)};
}

function compareWeights(specs, expected, actual) {
  const size = {float32: 4, int32: 4};
  const out = {equal: expected.length === actual.length && expected.every((b, i) => b === actual[i]),
               expectedBytes: expected.length, actualBytes: actual.length, differing: []};
  let offset = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1) * size[s.dtype];
    for (let i = offset; i < offset + n; i++) {
      if (expected[i] !== actual[i]) {
        const e = i - ((i - offset) % 4);
        const hex = (a) => '0x' + Array.from(a.slice(e, e + 4)).reverse().map((b) => b.toString(16).padStart(2, '0')).join('');
        out.differing.push({name: s.name, element: (e - offset) / 4, expected: hex(expected), actual: hex(actual)});
        break;
      }
    }
    offset += n;
  }
  return out;
}

function comparePredictions(expected, actual, tol) {
  let maxAbs = 0, maxRel = 0, bad = 0, nanMismatch = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i], a = actual[i];
    if (Number.isNaN(e) || Number.isNaN(a)) { if (Number.isNaN(e) !== Number.isNaN(a)) { nanMismatch++; bad++; } continue; }
    if (!Number.isFinite(e) || !Number.isFinite(a)) { if (e !== a) bad++; continue; }
    const d = Math.abs(a - e);
    maxAbs = Math.max(maxAbs, d);
    if (e !== 0) maxRel = Math.max(maxRel, d / Math.abs(e));
    if (!(d <= tol.atol + tol.rtol * Math.abs(e))) bad++;
  }
  return {maxAbs, maxRel, outside: bad, nanMismatch, count: expected.length};
}

const TYPED = {float32: Float32Array, int32: Int32Array};

// A file's bytes as a fresh ArrayBuffer (small Buffers share a pooled one).
function readArrayBuffer(file) {
  const raw = fs.readFileSync(file);
  return raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
}

async function checkModel(root, base, name) {
  const dir = path.join(root, name);
  const golden = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const examples = JSON.parse(fs.readFileSync(path.join(dir, 'examples.json'), 'utf8'));
  const manifest = golden.weightsManifest || [];
  const specs = manifest.flatMap((g) => g.weights);
  const bytes = new Uint8Array(Buffer.concat(manifest.flatMap((g) => g.paths).map((p) => fs.readFileSync(path.join(dir, p)))));
  const report = {name};
  let model;
  try {
    model = await tf.loadLayersModel(`${base}/${encodeURIComponent(name)}/model.json`);
  } catch (e) {
    report.loadError = String(e && e.message || e);
    return report;
  }
  const expectedJson = {...golden, ...REWRITES(tf.version.tfjs)};
  delete expectedJson.weightsManifest;
  expectedJson.modelTopology = {...golden.modelTopology, keras_version: `tfjs-layers ${tf.version.tfjs}`, backend: 'tensor_flow.js'};
  for (const [label, config] of [['save', undefined], ['saveIncludeOptimizer', {includeOptimizer: true}]]) {
    const got = await capture(model, config);
    const {weightSpecs, ...json} = got.json;
    report[label] = {
      jsonDiff: diffJson(expectedJson, json, '$', []),
      topologyKeyOrderEqual: JSON.stringify(expectedJson.modelTopology) === JSON.stringify(json.modelTopology),
      topLevelKeys: Object.keys(got.json),
      weightSpecsDiff: diffJson(specs, weightSpecs, '$.weightSpecs', []),
      weights: compareWeights(specs, bytes, got.bytes),
    };
  }
  const xs = examples.inputs.map((s) => tf.tensor(new TYPED[s.dtype](readArrayBuffer(path.join(dir, s.path))), s.shape, s.dtype));
  const ys = [].concat(model.predict(xs.length === 1 ? xs[0] : xs));
  report.predictions = ys.map((y, j) => {
    const spec = examples.outputs[j];
    if (!spec) return {error: `unexpected output ${j}`};
    const expected = new Float32Array(readArrayBuffer(path.join(dir, spec.path)));
    return {output: spec.name, shape: y.shape, expectedShape: spec.shape, ...comparePredictions(expected, y.dataSync(), examples.tolerance)};
  });
  if (ys.length !== examples.outputs.length) report.outputCountMismatch = [examples.outputs.length, ys.length];
  return report;
}

(async () => {
  await tf.setBackend('cpu');
  const root = path.resolve(process.argv[2] || 'fixtures');
  const names = process.argv.length > 3 ? process.argv.slice(3) : fs.readdirSync(root).filter((n) => fs.existsSync(path.join(root, n, 'model.json'))).sort();
  const server = await serve(root);
  const base = `http://127.0.0.1:${server.address().port}`;
  const models = {};
  try {
    for (const name of names) models[name] = await checkModel(root, base, name);
  } finally {
    server.close();
  }
  process.stdout.write(JSON.stringify({tfjs: tf.version.tfjs, backend: tf.getBackend(), models}, null, 1) + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
