// Check golden fixtures against TF.js in Node (no browser):
//   NODE_PATH=node_modules node harness/golden/tfjs_check.js fixtures [MODEL ...]
// For each model: serve fixtures/ over http on 127.0.0.1 and load it with the same http handler a
// page uses. Layers models: tf.loadLayersModel(), save with tf.io.withSaveHandler (default config,
// and {includeOptimizer: true}), and compare with the golden: every model.json field but the
// manifest (after TF.js's own rewrites: generatedBy, convertedBy, keras_version, backend),
// modelTopology key order, weight specs, weight bytes (exact), model.getWeights() bytes (exact),
// and predict() on the golden inputs against the golden outputs (max abs / rel error; within
// examples.json tolerance?). For a quantized golden the specs and bytes TF.js must hold and save
// are examples.json "after_load" (dequantized float32), not the manifest's.
// Graph models ("format": "graph-model"): tf.loadGraphModel(), save with withSaveHandler and
// compare the artifacts with model.json (every field, key order, weight specs, weight bytes), and
// execute({<input>: x}, [<outputs>]) against the golden outputs (floats within tolerance;
// int32 / bool / string exactly).
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

// Byte length of one weight at `offset` in `bytes` (strings: uint32 LE length-prefixed elements).
const SIZE = {float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2};
function specByteLength(spec, bytes, offset) {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.quantization) return count * SIZE[spec.quantization.dtype];
  if (spec.dtype !== 'string') return count * SIZE[spec.dtype];
  let n = 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) n += 4 + view.getUint32(offset + n, true);
  return n;
}

function compareWeights(specs, expected, actual) {
  const out = {equal: expected.length === actual.length && expected.every((b, i) => b === actual[i]),
               expectedBytes: expected.length, actualBytes: actual.length, differing: []};
  let offset = 0;
  for (const s of specs) {
    const n = specByteLength(s, expected, offset);
    const width = s.dtype === 'float32' || s.dtype === 'int32' ? 4 : 1;
    for (let i = offset; i < offset + n; i++) {
      if (expected[i] !== actual[i]) {
        const e = i - ((i - offset) % width);
        const hex = (a) => '0x' + Array.from(a.slice(e, e + width)).reverse().map((b) => b.toString(16).padStart(2, '0')).join('');
        out.differing.push({name: s.name, element: (e - offset) / width, expected: hex(expected), actual: hex(actual)});
        break;
      }
    }
    offset += n;
  }
  return out;
}

function comparePredictions(expected, actual, tol) {
  let maxAbs = 0, maxRel = 0, bad = 0, nanMismatch = 0, minMargin = Infinity;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i], a = actual[i];
    if (Number.isNaN(e) || Number.isNaN(a)) { if (Number.isNaN(e) !== Number.isNaN(a)) { nanMismatch++; bad++; } continue; }
    if (!Number.isFinite(e) || !Number.isFinite(a)) { if (e !== a) bad++; continue; }
    const d = Math.abs(a - e);
    maxAbs = Math.max(maxAbs, d);
    if (e !== 0) maxRel = Math.max(maxRel, d / Math.abs(e));
    if (!(d <= tol.atol + tol.rtol * Math.abs(e))) bad++;
    if (d > 0) minMargin = Math.min(minMargin, (tol.atol + tol.rtol * Math.abs(e)) / d);
  }
  // minMargin: smallest allowed / actual error over elements that differ (null: none differ)
  return {maxAbs, maxRel, outside: bad, nanMismatch, count: expected.length, minMargin: Number.isFinite(minMargin) ? minMargin : null};
}

const TYPED = {float32: Float32Array, int32: Int32Array, bool: Uint8Array};

// An examples.json tensor file as a tf.Tensor (strings: uint32 LE length-prefixed UTF-8 bytes).
function readTensor(dir, spec) {
  const buffer = readArrayBuffer(path.join(dir, spec.path));
  if (spec.dtype !== 'string') return tf.tensor(new TYPED[spec.dtype](buffer), spec.shape, spec.dtype);
  return tf.tensor(decodeStrings(new Uint8Array(buffer)), spec.shape, 'string');
}

function decodeStrings(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = [];
  for (let offset = 0; offset < bytes.length;) {
    const n = view.getUint32(offset, true);
    values.push(bytes.slice(offset + 4, offset + 4 + n));
    offset += 4 + n;
  }
  return values;
}

// One output against the golden: floats within tolerance, everything else exactly.
function compareOutput(dir, spec, y, tol) {
  const base = {output: spec.name, shape: y.shape, expectedShape: spec.shape, dtype: y.dtype, expectedDtype: spec.dtype};
  if (spec.dtype === 'float32') {
    const expected = new Float32Array(readArrayBuffer(path.join(dir, spec.path)));
    return {...base, ...comparePredictions(expected, y.dataSync(), tol)};
  }
  const expected = readTensor(dir, spec).dataSync();
  const actual = y.dataSync();
  const same = (a, b) => (a instanceof Uint8Array ? a.length === b.length && a.every((v, i) => v === b[i]) : a === b);
  let bad = 0;
  for (let i = 0; i < expected.length; i++) if (!same(expected[i], actual[i])) bad++;
  if (expected.length !== actual.length) bad += Math.abs(expected.length - actual.length);
  return {...base, maxAbs: 0, maxRel: 0, outside: bad, nanMismatch: 0, count: expected.length};
}

// model.getWeights() as little-endian bytes, in model.weights order.
function weightBytes(tensors) {
  return new Uint8Array(Buffer.concat(tensors.map((t) => {
    const d = t.dataSync();
    return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  })));
}

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
  const manifestSpecs = manifest.flatMap((g) => g.weights);
  const manifestBytes = new Uint8Array(Buffer.concat(manifest.flatMap((g) => g.paths).map((p) => fs.readFileSync(path.join(dir, p)))));
  if (golden.format === 'graph-model') return checkGraphModel(base, dir, name, golden, examples, manifestSpecs, manifestBytes);
  // What a loaded layers model holds and saves: quantized weights come back dequantized.
  const afterLoad = examples.after_load;
  const specs = afterLoad ? afterLoad.weights : manifestSpecs;
  const bytes = afterLoad ? new Uint8Array(fs.readFileSync(path.join(dir, afterLoad.path))) : manifestBytes;
  const report = {name, format: golden.format, afterLoad: Boolean(afterLoad)};
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
  // The tensors TF.js holds (model.weights order = save order, non-optimizer weights only).
  const held = model.getWeights();
  const heldSpecs = specs.filter((s) => s.group !== 'optimizer');
  let heldLength = 0;
  for (const s of heldSpecs) heldLength += specByteLength(s, bytes, heldLength);
  report.getWeights = {count: held.length, expectedCount: heldSpecs.length,
                       ...compareWeights(heldSpecs, bytes.slice(0, heldLength), weightBytes(held))};
  const xs = examples.inputs.map((s) => readTensor(dir, s));
  const ys = [].concat(model.predict(xs.length === 1 ? xs[0] : xs));
  report.predictions = ys.map((y, j) => {
    const spec = examples.outputs[j];
    if (!spec) return {error: `unexpected output ${j}`};
    return compareOutput(dir, spec, y, examples.tolerance);
  });
  if (ys.length !== examples.outputs.length) report.outputCountMismatch = [examples.outputs.length, ys.length];
  return report;
}

async function checkGraphModel(base, dir, name, golden, examples, specs, bytes) {
  const report = {name, format: golden.format};
  let model;
  try {
    model = await tf.loadGraphModel(`${base}/${encodeURIComponent(name)}/model.json`);
  } catch (e) {
    report.loadError = String(e && e.message || e);
    return report;
  }
  const expectedJson = {...golden};
  delete expectedJson.weightsManifest;
  let artifacts = null;
  await model.save(tf.io.withSaveHandler(async (a) => { artifacts = a; return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}}; }));
  const {weightData, weightSpecs, ...json} = artifacts;
  report.save = {
    jsonDiff: diffJson(expectedJson, json, '$', []),
    topologyKeyOrderEqual: JSON.stringify(expectedJson.modelTopology) === JSON.stringify(json.modelTopology),
    signatureKeyOrderEqual: JSON.stringify(expectedJson.signature) === JSON.stringify(json.signature),
    topLevelKeys: Object.keys(artifacts),
    weightDataKind: Array.isArray(weightData) ? `array of ${weightData.length} ArrayBuffer(s)` : (weightData == null ? String(weightData) : weightData.constructor.name),
    weightSpecsDiff: diffJson(specs, weightSpecs, '$.weightSpecs', []),
    weights: compareWeights(specs, bytes, join(weightData)),
  };
  report.inputNodes = model.inputNodes;
  report.outputNodes = model.outputNodes;
  const feeds = {};
  for (const s of examples.inputs) feeds[s.name] = readTensor(dir, s);
  const names = examples.outputs.map((s) => s.name);
  let ys;
  try {
    ys = [].concat(model.execute(feeds, names));
  } catch (e) {
    report.executeError = String(e && e.message || e);
    return report;
  }
  report.predictions = ys.map((y, j) => compareOutput(dir, examples.outputs[j], y, examples.tolerance));
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
