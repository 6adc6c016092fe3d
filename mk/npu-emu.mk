# npu-emu: the unit test of the NPU emulator links the emulator's own code
# (everything in tools/nuq-npu-emu/ but main.c), so it can run the device
# in-process and act as its driver.  These explicit rules take precedence
# over the generic $(B)/unit/% ones; the emulator objects go before libnuq
# so the static archive resolves what they use.

NPU_EMU_SRCS		:= $(filter-out tools/nuq-npu-emu/main.c,$(wildcard tools/nuq-npu-emu/*.c))
NPU_EMU_OBJS		:= $(patsubst %.c,$(B)/o/%.o,$(NPU_EMU_SRCS))
NPU_EMU_SAN_OBJS	:= $(patsubst %.c,$(B)/san/%.o,$(NPU_EMU_SRCS))

$(B)/unit/test_npu_emu: $(B)/o/tests/unit/test_npu_emu.o $(NPU_EMU_OBJS) $(UNIT_HELPER_OBJS) \
		$(LIBNUQ_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

$(B)/unit-san/test_npu_emu: $(B)/san/tests/unit/test_npu_emu.o $(NPU_EMU_SAN_OBJS) \
		$(UNIT_SAN_HELPER_OBJS) $(LIBNUQ_SAN_A)
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) -o $@ $^ -lcmocka $(LDLIBS)
