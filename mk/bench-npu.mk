# bench-npu: the NPU against the software backend, measured in one VM run
# with the emulator attached (tests/bench/bench_npu.c).

BENCH_NPU := $(B)/vm/bench-npu/bench_npu

$(BENCH_NPU): $(B)/vm/o/tests/bench/bench_npu.o $(SELFTEST_HELPER_OBJS) $(LIBNUQ_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -o $@ $^ $(LDLIBS)

.PHONY: bench-npu
bench-npu: $$(VM_DEPS) $(BENCH_NPU)
	@$(VM_ENV) NUQ_VM_BENCH=$(B)/vm/bench-npu tests/vm/run.sh bench

bench: bench-npu
