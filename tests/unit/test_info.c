// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of libnuq's device description (nuq_info_format and friends).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <nuq/nuq.h>

static struct nuq_info sample(void)
{
	struct nuq_info info;

	memset(&info, 0, sizeof(info));
	info.uapi_version = NUQ_UAPI_VERSION;
	info.index = 3;
	info.backend = NUQ_BACKEND_NPU;
	strcpy(info.name, "nuq-npu3");
	info.caps = NUQ_CAP_JOBS | NUQ_CAP_DMABUF;
	info.max_bo_size = 1 << 20;
	info.max_jobs_in_flight = 64;
	info.weight_formats = 1u << NUQ_WFMT_INT8 | 1u << NUQ_WFMT_ASD;
	info.weight_bits = 1u << 2 | 1u << 4 | 1u << 8;
	info.act_formats = 1u << NUQ_AFMT_UINT8;
	return info;
}

static void format_lists_every_field(void **state)
{
	struct nuq_info info = sample();
	char buf[1024];
	int n;

	(void)state;
	n = nuq_info_format(&info, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_non_null(strstr(buf, "name: nuq-npu3\n"));
	assert_non_null(strstr(buf, "index: 3\n"));
	assert_non_null(strstr(buf, "backend: npu\n"));
	assert_non_null(strstr(buf, "caps: jobs,dmabuf\n"));
	assert_non_null(strstr(buf, "max_bo_size: 1048576\n"));
	assert_non_null(strstr(buf, "max_jobs_in_flight: 64\n"));
	assert_non_null(strstr(buf, "weight_formats: int8,asd\n"));
	assert_non_null(strstr(buf, "weight_bits: 2,4,8\n"));
	assert_non_null(strstr(buf, "act_formats: uint8\n"));
}

static void format_truncates_like_snprintf(void **state)
{
	struct nuq_info info = sample();
	char full[1024], small[16];
	int need = nuq_info_format(&info, full, sizeof(full));

	(void)state;
	assert_int_equal(nuq_info_format(&info, small, sizeof(small)), need);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, full, sizeof(small) - 1);
	assert_int_equal(nuq_info_format(&info, NULL, 0), need);
}

static void name_without_nul_is_bounded(void **state)
{
	struct nuq_info info = sample();
	char buf[1024];

	(void)state;
	memset(info.name, 'x', sizeof(info.name));
	nuq_info_format(&info, buf, sizeof(buf));
	assert_non_null(strstr(buf, "name: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"));
}

static void empty_sets_say_none(void **state)
{
	struct nuq_info info = sample();
	char buf[1024];

	(void)state;
	info.caps = 0;
	info.weight_formats = 1u << 31;	/* unknown formats are not named */
	info.weight_bits = 0;
	nuq_info_format(&info, buf, sizeof(buf));
	assert_non_null(strstr(buf, "caps: none\n"));
	assert_non_null(strstr(buf, "weight_formats: none\n"));
	assert_non_null(strstr(buf, "weight_bits: none\n"));
}

static void version_major_must_match(void **state)
{
	struct nuq_info info = sample();

	(void)state;
	assert_int_equal(nuq_info_check_version(&info), 0);
	info.uapi_version = NUQ_UAPI_VERSION + 7;	/* a newer minor is fine */
	assert_int_equal(nuq_info_check_version(&info), 0);
	info.uapi_version = (NUQ_UAPI_VERSION_MAJOR + 1) << 16;
	assert_int_equal(nuq_info_check_version(&info), -EPROTO);
}

static void strerror_names_errors(void **state)
{
	(void)state;
	assert_string_equal(nuq_strerror(0), "success");
	assert_non_null(strstr(nuq_strerror(-EPROTO), "UAPI"));
	assert_string_equal(nuq_strerror(-ENOENT), strerror(ENOENT));
	assert_string_equal(nuq_strerror(ENOENT), strerror(ENOENT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_lists_every_field),
		cmocka_unit_test(format_truncates_like_snprintf),
		cmocka_unit_test(name_without_nul_is_bounded),
		cmocka_unit_test(empty_sets_say_none),
		cmocka_unit_test(version_major_must_match),
		cmocka_unit_test(strerror_names_errors),
	};

	return cmocka_run_group_tests_name("info", tests, NULL, NULL);
}
