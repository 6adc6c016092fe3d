// SPDX-License-Identifier: GPL-2.0
//
// The fp32 reference for nuq's graph executor tests: run an ONNX model
// with onnxruntime-node (test-only, installed by make deps) on one raw
// float32 input and write the first output as raw float32.
//
//   node ort_run.js MODEL.onnx IN.f32 D0,D1,D2,D3 OUT.f32
//
// Prints the output shape on stdout.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
	const [model, inPath, shapeArg, outPath] = process.argv.slice(2);
	if (!outPath) {
		console.error('usage: node ort_run.js MODEL.onnx IN.f32 D0,D1,... OUT.f32');
		process.exit(2);
	}
	const dims = shapeArg.split(',').map(Number);
	const buf = fs.readFileSync(inPath);
	const data = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
	const s = await ort.InferenceSession.create(model, {
		graphOptimizationLevel: 'disabled', intraOpNumThreads: 1,
	});
	const feeds = {};
	feeds[s.inputNames[0]] = new ort.Tensor('float32', data, dims);
	const r = await s.run(feeds);
	const out = r[s.outputNames[0]];
	fs.writeFileSync(outPath, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.length * 4));
	console.log(out.dims.join(','));
}
main().catch((e) => { console.error(String(e)); process.exit(1); });
