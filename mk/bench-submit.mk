# bench-submit: submission paths and the software backend, measured in the VM.

BENCH_SUBMIT := $(B)/vm/bench/bench_submit

$(BENCH_SUBMIT): $(B)/vm/o/tests/bench/bench_submit.o $(SELFTEST_HELPER_OBJS) $(LIBNUQ_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -o $@ $^ $(LDLIBS)

.PHONY: bench-submit
bench-submit: $(B)/kmod/$(KVER)/nuq.ko $(BENCH_SUBMIT) $(VM_TOOL_BINS)
	@$(VM_ENV) NUQ_VM_BENCH=$(B)/vm/bench tests/vm/run.sh bench

bench: bench-submit
