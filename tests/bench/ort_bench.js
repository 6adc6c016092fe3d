// SPDX-License-Identifier: GPL-2.0
//
// onnxruntime-node (test/bench only) timing one model on one raw float32
// input, for tests/bench/bench_models.sh:
//
//   node ort_bench.js MODEL.onnx IN.f32 D0,D1,... THREADS RUNS
//
// fp32 on the CPU with onnxruntime's default graph optimisations and
// THREADS intra-op and inter-op threads; 2 warm-up runs, then RUNS timed
// ones.  Prints "median MS min MS max MS q1 MS q3 MS rss KB" like
// bench_models (rss: the process's peak, node itself included).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function quantile(v, p) {
	const pos = p * (v.length - 1), i = Math.floor(pos);
	return i + 1 < v.length ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[v.length - 1];
}

async function main() {
	const [model, inPath, shapeArg, threads, runsArg] = process.argv.slice(2);
	if (!runsArg) {
		console.error('usage: node ort_bench.js MODEL.onnx IN.f32 D0,D1,... THREADS RUNS');
		process.exit(2);
	}
	const dims = shapeArg.split(',').map(Number), runs = Number(runsArg);
	const buf = fs.readFileSync(inPath);
	const data = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
	const s = await ort.InferenceSession.create(model, {
		intraOpNumThreads: Number(threads), interOpNumThreads: Number(threads),
		logSeverityLevel: 3,
	});
	const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', data, dims) };
	const t = [];
	for (let k = 0; k < 2 + runs; k++) {
		const t0 = performance.now();
		await s.run(feeds);
		if (k >= 2)
			t.push(performance.now() - t0);
	}
	t.sort((a, b) => a - b);
	const f = (v) => v.toFixed(3);
	console.log(`median ${f(quantile(t, 0.5))} min ${f(t[0])} max ${f(t[t.length - 1])}` +
		` q1 ${f(quantile(t, 0.25))} q3 ${f(quantile(t, 0.75))}` +
		` rss ${process.resourceUsage().maxRSS}`);
}
main().catch((e) => { console.error(String(e)); process.exit(1); });
