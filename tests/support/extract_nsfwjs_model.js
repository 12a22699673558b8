// Writes one of the graph models that the nsfwjs npm package ships (converted by the official
// TensorFlow.js converter, weights in several shards) as a plain model folder:
// OUT/model.json + OUT/<shard> files, exactly as the converter wrote them.
// nsfwjs wraps each file in a JS module (model.min.js exports the model.json object; each shard
// module exports its bytes as base64).  Usage: node extract_nsfwjs_model.js MODEL OUT
'use strict';
const fs = require('fs');
const path = require('path');

const [name, out] = process.argv.slice(2);
// nsfwjs's package "exports" hide its files from require.resolve: find it from the repo instead.
const dir = path.join(__dirname, '..', '..', 'node_modules', 'nsfwjs', 'dist', 'models', name);
const unwrap = (m) => (m && m.default !== undefined ? m.default : m);
const modelJson = unwrap(require(path.join(dir, 'model.min.js')));
fs.mkdirSync(out, {recursive: true});
fs.writeFileSync(path.join(out, 'model.json'), JSON.stringify(modelJson));
for (const group of modelJson.weightsManifest) {
  for (const shard of group.paths) {
    const base64 = unwrap(require(path.join(dir, `${shard}.min.js`)));
    fs.writeFileSync(path.join(out, shard), Buffer.from(base64, 'base64'));
  }
}
process.stdout.write(JSON.stringify({format: modelJson.format, convertedBy: modelJson.convertedBy,
                                     shards: modelJson.weightsManifest.flatMap((g) => g.paths)}) + '\n');
