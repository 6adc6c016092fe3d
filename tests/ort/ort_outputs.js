// SPDX-License-Identifier: GPL-2.0
//
// onnxruntime-node (test-only reference) on one raw float32 input, with
// every graph output summarised, for models with several outputs (the
// face and line detectors of Documentation/models.rst):
//
//   node ort_outputs.js MODEL.onnx IN.f32 D0,D1,... [OUTDIR]
//
// Prints per output: name, dims, min, max, mean, and the 3 largest values
// with their flat indices; OUTDIR gets each output as NAME.f32 (':' and
// '/' in names become '_').  Runs fp32 with graph optimisations off and one
// thread, so that the reference is the plain op-by-op result.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function summary(name, t) {
	const d = t.data;
	let min = Infinity, max = -Infinity, sum = 0;
	for (let i = 0; i < d.length; i++) {
		min = Math.min(min, d[i]);
		max = Math.max(max, d[i]);
		sum += d[i];
	}
	const top = Array.from(d.keys()).sort((a, b) => d[b] - d[a]).slice(0, 3);
	const g = (v) => Number(v).toPrecision(6);
	return `${name} [${t.dims.join(',')}] min ${g(min)} max ${g(max)} mean ${g(sum / d.length)}` +
		` top ${top.map((i) => `${i}:${g(d[i])}`).join(' ')}`;
}

async function main() {
	const [model, inPath, shapeArg, outDir] = process.argv.slice(2);
	if (!shapeArg) {
		console.error('usage: node ort_outputs.js MODEL.onnx IN.f32 D0,D1,... [OUTDIR]');
		process.exit(2);
	}
	const dims = shapeArg.split(',').map(Number);
	const buf = fs.readFileSync(inPath);
	const data = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
	if (data.length !== dims.reduce((a, b) => a * b, 1))
		throw new Error(`${inPath}: ${data.length} floats, not ${shapeArg}`);
	const s = await ort.InferenceSession.create(model, {
		graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, logSeverityLevel: 3,
	});
	const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', data, dims) });
	for (const name of s.outputNames) {
		const t = r[name];
		console.log(summary(name, t));
		if (outDir) {
			const f = path.join(outDir, name.replace(/[:/]/g, '_') + '.f32');
			fs.writeFileSync(f, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.length * 4));
		}
	}
}
main().catch((e) => { console.error(String(e)); process.exit(1); });
