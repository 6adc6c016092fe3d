# stress: nuq-stress, the seeded random-syscall stress of /dev/nuqN
# (tests/stress/, Documentation/testing.rst "Stress").
#
#   make stress [STRESS_SECONDS=N] [STRESS_SEED=S]   the long pass in the VM
#
# The short pass is the kselftest nuq_stress_test (make vm-test), which links
# the same code and also replays every seed in tests/stress/seeds/.

STRESS_SECONDS	?= 300
STRESS_SEED	?=
STRESS_SRCS	:= $(wildcard tests/stress/stress_*.c)
STRESS_LIB_OBJS	:= $(patsubst %.c,$(B)/vm/o/%.o,$(filter-out tests/stress/stress_main.c,$(STRESS_SRCS))) \
		   $(B)/vm/o/tests/common/conv_ref.o
STRESS_BIN	:= $(B)/vm/stress/nuq-stress

# Our own rule (the shortest stem wins): every warning, as for the library.
$(B)/vm/o/tests/stress/%.o: tests/stress/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(NUQ_CFLAGS) $(CFLAGS) -c $< -o $@

$(STRESS_BIN): $(B)/vm/o/tests/stress/stress_main.o $(STRESS_LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -o $@ $^ -luring -lm -lpthread

# The regression seeds, compiled into the selftest (rewritten only on change).
$(B)/gen/stress_seeds.h: FORCE
	@mkdir -p $(@D)
	@for f in $(sort $(wildcard tests/stress/seeds/*.seed)); do \
		sed -e '/^#/d' -e '/^[[:space:]]*$$/d' -e 's/.*/"&",/' $$f; \
	done >$@.tmp; cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp
$(B)/vm/o/tests/selftests/nuq_stress_test.o: $(B)/gen/stress_seeds.h
$(B)/vm/selftests/nuq_stress_test: $(filter-out $(B)/vm/o/tests/common/conv_ref.o,$(STRESS_LIB_OBJS))

.PHONY: stress FORCE
FORCE:
stress: $(B)/kmod/$(KVER)/nuq.ko $(STRESS_BIN) $(VM_TOOL_BINS) $(NPU_EMU)
	@$(VM_ENV) NUQ_VM_BENCH=$(B)/vm/stress STRESS_SECONDS=$(STRESS_SECONDS) \
		STRESS_SEED=$(STRESS_SEED) tests/stress/vm-stress.sh $(B)/results
