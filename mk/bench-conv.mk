# bench-conv: the portable integer core against oneDNN, XNNPACK and OpenBLAS.

BENCH_CONV := $(B)/bench/bench_conv

$(BENCH_CONV): $(B)/o/tests/bench/bench_conv.o $(patsubst %.c,$(B)/o/%.o,$(TEST_COMMON)) $(LIBNUQ_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ -ldnnl -lXNNPACK -lopenblas $(LDLIBS)

.PHONY: bench-conv
bench-conv: $(BENCH_CONV)
	@OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BENCH_CONV)

bench: bench-conv
