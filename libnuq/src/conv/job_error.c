// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: text for the core's NUQ_JOB_E_* codes.
 */
#include <nuq/conv.h>

static const char *const job_errors[NUQ_JOB_E_COUNT] = {
	[NUQ_JOB_E_NONE] = "no error",
	[NUQ_JOB_E_RESERVED] = "a reserved or padding field is not zero",
	[NUQ_JOB_E_FLAGS] = "unknown job flag, or a codebook flag on another format",
	[NUQ_JOB_E_PRIORITY] = "priority is not low, normal, high or realtime",
	[NUQ_JOB_E_WEIGHT_FORMAT] = "unknown weight format or codebook strategy",
	[NUQ_JOB_E_ACT_FORMAT] = "unknown activation format",
	[NUQ_JOB_E_BITS] = "weight_bits does not fit the weight format",
	[NUQ_JOB_E_SHAPE] = "a dimension is zero or too large",
	[NUQ_JOB_E_GROUPS] = "groups does not divide the input and output channels",
	[NUQ_JOB_E_STRIDE] = "a stride or dilation is zero or too large",
	[NUQ_JOB_E_OUT_SHAPE] = "the output size does not match the input, kernel, stride and padding",
	[NUQ_JOB_E_ZERO_POINT] = "a zero point is outside its format's range",
	[NUQ_JOB_E_CLAMP] = "the output clamp is outside the format's range or reversed",
	[NUQ_JOB_E_RESIDUAL] = "invalid residual parameters",
	[NUQ_JOB_E_TENSOR_MISSING] = "a required tensor is missing, or an unused one is given",
	[NUQ_JOB_E_HANDLE] = "a buffer handle does not exist in this context",
	[NUQ_JOB_E_BOUNDS] = "a tensor extends past the end of its buffer",
	[NUQ_JOB_E_OVERFLOW] = "a tensor size overflows",
	[NUQ_JOB_E_ALIGN] = "an int32/int16 tensor is misaligned",
	[NUQ_JOB_E_REQUANT] = "a requantization multiplier or shift is out of range",
	[NUQ_JOB_E_ASD_DIGIT] = "a malformed ASD digit byte",
};

const char *nuq_job_error_str(int code)
{
	if (code < 0)
		code = -code;
	if (code >= NUQ_JOB_E_COUNT)
		return "unknown job error";
	return job_errors[code];
}
