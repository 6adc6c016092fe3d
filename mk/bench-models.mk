# bench-models: whole models (PaddleOCR det/rec/cls, BlazeFace, M-LSD) on
# real inputs, onnxruntime-node fp32 against nuq's fp32 executor and nuq
# quantized on the CPU core, at 1 and 2 threads, with per-op profiles:
# results/bench-models.txt, bench-models.png, bench-models/ (profiles).

BENCH_MODELS := $(B)/bench/bench_models

$(BENCH_MODELS): $(B)/o/tests/bench/bench_models.o $(LIBNUQ_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

.PHONY: bench-models
bench-models: $(BENCH_MODELS) $(B)/bin/nuq $(B)/tests/graph_ref $(MODEL_INPUT)
	@mkdir -p $(B)/results
	@tests/bench/bench_models.sh $(BENCH_MODELS) $(B)/bin/nuq $(B)/tests/graph_ref \
		$(MODEL_INPUT) $(abspath $(CACHE))/ort/node_modules $(abspath $(MODELS_DIR)) \
		$(abspath $(CACHE))/models $(B)/results

bench: bench-models
