#!/bin/sh
# The bench-models bar plot: nuq fp32 and nuq quantized time per model and
# thread count, relative to onnxruntime fp32 (1 = as fast; lower is better),
# with the targets (quantized 1x, fp32 2x) as lines.
#
#   bench_models_plot.sh BENCH-MODELS.dat OUT.png
set -eu
dat=$1 png=$2
command -v gnuplot >/dev/null || { echo "no gnuplot (make deps): no $png" >&2; exit 0; }
gnuplot <<EOF2
set terminal pngcairo size 1100,520 font ",10"
set output "$png"
set title "nuq vs onnxruntime fp32, whole models (time / onnxruntime's, lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y 2
set yrange [0.25:*]
set ylabel "time / onnxruntime fp32"
set xtics rotate by -35 scale 0
set key top left
set grid ytics
plot "$dat" using 5:xtic(1) title "nuq fp32" lc rgb "#4477aa", \
     "" using 6 title "nuq quantized (CPU core)" lc rgb "#cc6677", \
     1 with lines lw 2 lc rgb "#228833" title "quantized target (1x)", \
     2 with lines lw 2 dt 2 lc rgb "#999999" title "fp32 target (2x)"
EOF2
