/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kselftest_harness.h with nuq's one change: every test's timeout is
 * multiplied by $NUQ_TEST_TIMEOUT_SCALE (a whole number, default 1).
 * tests/vm/init.sh sets it on the debug kernel, where KASAN and TCG make
 * everything several times slower; the harness itself has no such knob
 * (TEST_TIMEOUT_DEFAULT is a plain 30 s).  Include this instead of
 * kselftest_harness.h.
 */
#ifndef NUQ_HARNESS_H
#define NUQ_HARNESS_H

#include "kselftest_harness.h"
#include "nuq_selftest.h"

static inline void nuq_scale_timeouts(void)
{
	int scale = nuq_timeout_scale();
	struct __fixture_metadata *f;
	struct __test_metadata *t;

	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			t->timeout *= scale;
}

#undef TEST_HARNESS_MAIN
#define TEST_HARNESS_MAIN \
	static void __attribute__((constructor)) \
	__constructor_order_last(void) \
	{ \
		if (!__constructor_order) \
			__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD; \
	} \
	int main(int argc, char **argv) \
	{ \
		nuq_scale_timeouts(); \
		return test_harness_run(argc, argv); \
	}

#endif
