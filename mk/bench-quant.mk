# bench-quant: quantization methods on the PaddleOCR weights, with a plot.

BENCH_QUANT := $(B)/bench/bench_quant

$(BENCH_QUANT): $(B)/o/tests/bench/bench_quant.o $(LIBNUQ_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

.PHONY: bench-quant
bench-quant: $(BENCH_QUANT)
	@mkdir -p $(B)/results
	@$(BENCH_QUANT) $(B)/results/bench-quant

bench: bench-quant
