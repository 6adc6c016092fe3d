# The non-OCR models (Documentation/models.rst, "Models beyond OCR"):
# onnx_info lists a model's inputs, outputs and ops and which ops nuq
# lacks; make models-info runs it on every installed model.

ONNX_INFO := $(B)/tests/onnx_info
NUQ_EXTRA_MODELS := $(CACHE)/models

$(ONNX_INFO): $(B)/o/tests/ort/onnx_info.o $(LIBNUQ_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

.PHONY: models-info
models-info: $(ONNX_INFO)
	@for m in $(NUQ_EXTRA_MODELS)/*/*.onnx; do \
		[ -f "$$m" ] || { echo "no models in $(NUQ_EXTRA_MODELS): run make deps" >&2; exit 1; }; \
		echo "== $${m#$(NUQ_EXTRA_MODELS)/}"; $(ONNX_INFO) "$$m"; [ $$? -le 3 ] || exit 1; \
	done

# A real photo as a model's float32 input (JPEG via libjpeg, PNG via libpng).
MODEL_INPUT := $(B)/tests/model_input

$(MODEL_INPUT): $(B)/o/tests/ort/model_input.o $(LIBNUQ_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The fp32 references (onnxruntime-node, test-only) of those models on real
# photos, checked against what the photos show; kept in $(B)/models-ref
# for the nuq-vs-onnxruntime tests.
.PHONY: models-ref
models-ref: $(MODEL_INPUT) $(ONNX_INFO)
	@mkdir -p $(B)/results
	@rm -rf $(B)/models-ref
	@tests/ort/models_ref.sh $(MODEL_INPUT) $(ONNX_INFO) $(abspath $(CACHE))/ort/node_modules \
		$(abspath $(NUQ_EXTRA_MODELS)) $(B)/models-ref >$(B)/results/models-ref.tap 2>&1; \
		rc=$$?; sed 's/^/    /' $(B)/results/models-ref.tap; exit $$rc

# nuq's fp32 executor against onnxruntime on those models, every output
# (part of make check): results/models-fp32.tap.
.PHONY: models-fp32
models-fp32: $(MODEL_INPUT) $(B)/tests/graph_ref
	@mkdir -p $(B)/results
	@tests/ort/models_fp32.sh $(MODEL_INPUT) $(B)/tests/graph_ref \
		$(abspath $(CACHE))/ort/node_modules $(abspath $(NUQ_EXTRA_MODELS)) \
		>$(B)/results/models-fp32.tap 2>&1; \
		rc=$$?; sed 's/^/    /' $(B)/results/models-fp32.tap; exit $$rc

# The quantized executor's fidelity on those models (issue 16, part of
# make check): nuq quantize's defaults, 8-bit activations on the CPU
# core, calibrated on photos, every output against nuq's fp32 executor
# on other photos: results/models-quant.tap.  About a minute.
.PHONY: models-quant
models-quant: $(MODEL_INPUT) $(B)/tests/graph_ref $(B)/bin/nuq
	@mkdir -p $(B)/results
	@tests/ort/models_quant.sh $(MODEL_INPUT) $(B)/tests/graph_ref $(B)/bin/nuq \
		$(abspath $(NUQ_EXTRA_MODELS)) >$(B)/results/models-quant.tap 2>&1; \
		rc=$$?; sed 's/^/    /' $(B)/results/models-quant.tap; exit $$rc
