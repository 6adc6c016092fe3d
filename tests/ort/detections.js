// SPDX-License-Identifier: GPL-2.0
//
// What the face and line detectors of Documentation/models.rst found,
// from their raw outputs (as written by ort_outputs.js OUTDIR, or by nuq):
// the same decoding for the fp32 reference and for nuq, so that tests can
// compare detections, not only tensors.
//
//   node detections.js blazeface SIZE DIR [THRESHOLD]   (default 0.75)
//   node detections.js mlsd SIZE DIR [THRESHOLD]        (default 0.1)
//
// blazeface: DIR/Identity_0.f32 .. Identity_3_0.f32 (scores and boxes of
// the 16x16x2 and 8x8x6 anchor grids); prints "faces N" then one
// "face SCORE CX CY W H" per face (input pixels), after the weighted
// overlap removal of the package's own post-processing (IoU 0.3).
// mlsd: DIR/scores.f32 (already peak-suppressed by the model) and
// DIR/offsets.f32; prints "lines N" then the 5 strongest
// "line SCORE X0 Y0 X1 Y1" (input pixels).
'use strict';
const fs = require('fs');
const path = require('path');

function readF32(file) {
	const b = fs.readFileSync(file);
	return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
}

const f = (v) => v.toFixed(1);

function iou(a, b) {
	const ix = Math.max(0, Math.min(a.cx + a.w / 2, b.cx + b.w / 2) -
		Math.max(a.cx - a.w / 2, b.cx - b.w / 2));
	const iy = Math.max(0, Math.min(a.cy + a.h / 2, b.cy + b.h / 2) -
		Math.max(a.cy - a.h / 2, b.cy - b.h / 2));
	const inner = ix * iy;
	return inner / (a.w * a.h + b.w * b.h - inner);
}

function blazeface(size, dir, threshold) {
	const grids = [['Identity_0', 'Identity_2_0', 16, 2], ['Identity_1_0', 'Identity_3_0', 8, 6]];
	const cand = [];
	for (const [sName, bName, cells, per] of grids) {
		const s = readF32(path.join(dir, sName + '.f32'));
		const b = readF32(path.join(dir, bName + '.f32'));
		if (s.length !== cells * cells * per || b.length !== s.length * 16)
			throw new Error(`${dir}: ${sName}/${bName} are not ${cells}x${cells}x${per} anchors`);
		for (let a = 0; a < s.length; a++) {
			const score = 1 / (1 + Math.exp(-s[a]));
			if (score < threshold)
				continue;
			const c = Math.floor(a / per), step = size / cells;
			cand.push({
				score, cx: (c % cells + 0.5) * step + b[a * 16],
				cy: (Math.floor(c / cells) + 0.5) * step + b[a * 16 + 1],
				w: b[a * 16 + 2], h: b[a * 16 + 3],
			});
		}
	}
	cand.sort((x, y) => y.score - x.score);
	const faces = [];
	for (let i = 0; i < cand.length; i++) {
		if (!cand[i])
			continue;
		const acc = { score: cand[i].score, cx: 0, cy: 0, w: 0, h: 0 };
		let wsum = 0;
		for (let j = i; j < cand.length; j++) {
			if (!cand[j] || (j > i && iou(cand[i], cand[j]) < 0.3))
				continue;
			for (const k of ['cx', 'cy', 'w', 'h'])
				acc[k] += cand[j][k] * cand[j].score;
			wsum += cand[j].score;
			if (j > i)
				cand[j] = null;
		}
		for (const k of ['cx', 'cy', 'w', 'h'])
			acc[k] /= wsum;
		faces.push(acc);
	}
	console.log(`faces ${faces.length}`);
	for (const d of faces)
		console.log(`face ${d.score.toFixed(3)} ${f(d.cx)} ${f(d.cy)} ${f(d.w)} ${f(d.h)}`);
}

function mlsd(size, dir, threshold) {
	const s = readF32(path.join(dir, 'scores.f32'));
	const o = readF32(path.join(dir, 'offsets.f32'));
	const g = size / 2;
	if (s.length !== g * g || o.length !== 4 * s.length)
		throw new Error(`${dir}: scores/offsets are not ${g}x${g}`);
	const lines = [];
	for (let i = 0; i < s.length; i++) {
		if (s[i] < threshold)
			continue;
		const x = i % g, y = Math.floor(i / g);
		lines.push([s[i], 2 * (x + o[4 * i]), 2 * (y + o[4 * i + 1]),
			2 * (x + o[4 * i + 2]), 2 * (y + o[4 * i + 3])]);
	}
	lines.sort((a, b) => b[0] - a[0]);
	console.log(`lines ${lines.length}`);
	for (const l of lines.slice(0, 5))
		console.log(`line ${l[0].toFixed(3)} ${l.slice(1).map(f).join(' ')}`);
}

const [kind, sizeArg, dir, thr] = process.argv.slice(2);
const size = Number(sizeArg);
if (!dir || !(size > 0) || (kind !== 'blazeface' && kind !== 'mlsd')) {
	console.error('usage: node detections.js blazeface|mlsd SIZE DIR [THRESHOLD]');
	process.exit(2);
}
try {
	if (kind === 'blazeface')
		blazeface(size, dir, thr === undefined ? 0.75 : Number(thr));
	else
		mlsd(size, dir, thr === undefined ? 0.1 : Number(thr));
} catch (e) {
	console.error(String(e.message || e));
	process.exit(1);
}
