# The ONNX backend conformance suite (Debian's libonnx-testdata) through
# nuq's fp32 graph executor; tests/conformance/, Documentation/models.rst.
#
#   make conformance        every case; results/conformance.{tap,log}
#   make conformance-san    the same runner on the ASan+UBSan library
#
# make check runs "conformance": its TAP has one test per suite directory,
# failing on a wrong answer or a crash (a clear refusal does not fail).

CONF_DATA	?= /usr/share/libonnx-testdata/data
CONF_SRCS	:= $(wildcard tests/conformance/*.c)
CONF_BIN	:= $(B)/tests/onnx_conformance
CONF_SAN_BIN	:= $(B)/tests/onnx_conformance-san

$(CONF_BIN): $(patsubst %.c,$(B)/o/%.o,$(CONF_SRCS)) $(LIBNUQ_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(CONF_SAN_BIN): $(patsubst %.c,$(B)/san/%.o,$(CONF_SRCS)) $(LIBNUQ_SAN_A)
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

.PHONY: conformance conformance-san
conformance: $(CONF_BIN)
	@mkdir -p $(B)/results
	@$(CONF_BIN) -o $(B)/results/conformance.tap -l $(B)/results/conformance.log $(CONF_DATA)

# Slower (about 3x); a crash here is a memory error the plain run may miss.
conformance-san: $(CONF_SAN_BIN)
	@mkdir -p $(B)/results
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(CONF_SAN_BIN) -t 60 -o $(B)/results/conformance-san.tap \
		-l $(B)/results/conformance-san.log $(CONF_DATA)
