/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: quantized layers and the .nuq file that stores them.
 *
 * A struct nuq_qlayer is one quantized weight tensor exactly as stored:
 * codebooks already in fixed point (entries of 8 or 16 bits times a
 * per-group scale), indices one per byte in memory and bit-packed on
 * disk, or ASD digit pairs.  A layer quantized after an SVD holds two
 * matrices, L = U S (rows x rank) and R = V^T (rank x cols).
 *
 * The file format is described byte by byte in
 * Documentation/nuq-file-format.rst.  The reader validates every field
 * and reports the first problem with the section it is in.
 */
#ifndef NUQ_NUQFILE_H
#define NUQ_NUQFILE_H

#include <stddef.h>
#include <stdint.h>

#include <nuq/onnx.h>
#include <nuq/quant.h>

#define NUQ_FILE_MAGIC		"NUQW"
#define NUQ_FILE_VERSION	5	/* the newest version; the reader reads 1 to 5 */
#define NUQ_FILE_VERSION_MIN	1
#define NUQ_NAME_MAX		255
#define NUQ_FILE_HEADER_BYTES	32	/* the file header */
#define NUQ_SECTION_HEADER_BYTES 16	/* before each section's payload */

/*
 * Weight i of group g is scales[g] * entries[cb * (1 << bits) + idx[i]],
 * cb = g, or 0 when the groups share one codebook (NUQ_GRAN_CHANNEL_SCALED:
 * the groups are the rows, scales[g] = base_scale * ratio16[g] as float16).
 */
struct nuq_qmat {
	uint32_t rows, cols;
	uint32_t group_size;	/* rows * cols (layer), cols (channel) or G */
	uint32_t ngroups;
	uint32_t ncodebooks;	/* ngroups, or 1 (shared) */
	float *scales;		/* per group: value = entry * scale, or digits * scale */
	float base_scale;	/* shared codebook: the largest group scale ... */
	uint16_t *ratio16;	/* ... times each group's float16 ratio in [0, 1] */
	uint16_t *nlevels;	/* codebook: levels used per codebook */
	int16_t *entries;	/* codebook: 1 << bits entries per codebook */
	uint8_t *idx;		/* codebook: one index per weight */
	uint8_t *digits;	/* ASD: two digit bytes per weight */
};

/*
 * Layer flags (file version 3).  NUQ_QLAYER_BN_FOLDED: the layer is a
 * Conv's weights times the per-channel scale of the BatchNormalization
 * that follows it, and bias16 holds the Conv's bias and that
 * BatchNormalization's shift together, one float16 per output channel;
 * the executor then reads neither from the ONNX file.  Folding in the
 * file, not at run time, lets a model with BatchNormalization cost its
 * parameters once, in 2 bytes per channel instead of 4 tensors of fp32.
 */
#define NUQ_QLAYER_BN_FOLDED	0x1
/*
 * NUQ_QLAYER_BIAS (file version 5): a Conv with no BatchNormalization
 * after it whose own bias is in bias16 (float16, as above), which the
 * executor reads instead of the ONNX file's fp32 one.  Not with
 * NUQ_QLAYER_BN_FOLDED, whose bias16 already holds it.
 */
#define NUQ_QLAYER_BIAS		0x2
#define NUQ_QLAYER_HAS_BIAS	(NUQ_QLAYER_BN_FOLDED | NUQ_QLAYER_BIAS)
#define NUQ_QLAYER_FLAGS	(NUQ_QLAYER_BN_FOLDED | NUQ_QLAYER_BIAS)	/* every flag known */

struct nuq_qlayer {
	char name[NUQ_NAME_MAX + 1];	/* the ONNX weight tensor */
	enum nuq_qmethod method;
	enum nuq_granularity gran;
	unsigned int bits;		/* codebook index bits 1-8; 0 for ASD */
	unsigned int cb_width;		/* codebook entry bits, 8 or 16; 0 for ASD */
	enum nuq_layout layout;
	unsigned int ndims;
	int64_t dims[NUQ_ONNX_MAX_DIMS];	/* the ONNX tensor's shape */
	uint32_t rows, cols;
	uint32_t rank;			/* 0, or the SVD rank */
	struct nuq_qmat mat[2];		/* mat[1] only with a rank */
	uint32_t flags;			/* NUQ_QLAYER_* */
	uint16_t *bias16;		/* NUQ_QLAYER_HAS_BIAS: rows float16 biases */
};

/*
 * Make @l a folded Conv + BatchNormalization: @bias (l->rows values, the
 * folded bias) is stored as float16.  -ERANGE if a value is not finite
 * in float16, -ENOMEM; @l is unchanged then.
 */
int nuq_qlayer_set_folded_bias(struct nuq_qlayer *l, const float *bias);
/* The same for a Conv's own bias (NUQ_QLAYER_BIAS; no BatchNormalization follows). */
int nuq_qlayer_set_bias(struct nuq_qlayer *l, const float *bias);
/* 1 when all @n biases are finite in float16, as nuq_qlayer_set_folded_bias() needs. */
int nuq_folded_bias_fits(const float *bias, size_t n);
/* The folded bias of output channel @r, as the file stores it. */
float nuq_qlayer_bias(const struct nuq_qlayer *l, size_t r);

/* Bit-packed indices, LSB first; returns the bytes written, (n * bits + 7) / 8. */
size_t nuq_pack_indices(const uint8_t *idx, size_t n, unsigned int bits, uint8_t *out);
void nuq_unpack_indices(const uint8_t *in, size_t n, unsigned int bits, uint8_t *idx);

/*
 * Turn a quantized tensor into its stored form: codebook levels become
 * @cb_width-bit entries with a per-group scale.  *@fixed_err receives
 * the largest absolute error the fixed-point step added.
 */
int nuq_qmat_from_qtensor(const struct nuq_qtensor *t, unsigned int bits, unsigned int cb_width,
			  struct nuq_qmat *m, double *fixed_err);
/* The codebook group @g uses. */
static inline size_t nuq_qmat_codebook(const struct nuq_qmat *m, size_t g)
{
	return m->ncodebooks == 1 ? 0 : g;
}
/* The group weight (@r, @c) belongs to. */
static inline size_t nuq_qmat_group_of(const struct nuq_qmat *m, size_t r, size_t c)
{
	size_t per_row;

	if (m->ngroups == 1)
		return 0;
	per_row = (m->cols + m->group_size - 1) / m->group_size;
	return r * per_row + c / m->group_size;
}
/* Group @g's scale as the stored fields give it (what the reader sets scales[g] to). */
float nuq_qmat_group_scale(const struct nuq_qmat *m, size_t g);
void nuq_qmat_dequantize(const struct nuq_qmat *m, enum nuq_qmethod method, unsigned int bits,
			 float *out);
void nuq_qmat_free(struct nuq_qmat *m);

/* The layer's rows x cols matrix as it will compute (L R for SVD layers). */
int nuq_qlayer_dequantize(const struct nuq_qlayer *l, float *out);
/* Bytes the layer's section takes in a file, headers included. */
size_t nuq_qlayer_file_bytes(const struct nuq_qlayer *l);
void nuq_qlayer_free(struct nuq_qlayer *l);

/* How to quantize one layer. */
struct nuq_layer_opts {
	struct nuq_qparams q;
	enum nuq_granularity gran;
	size_t group_size;		/* NUQ_GRAN_GROUP */
	unsigned int cb_width;		/* codebook entry bits, 8 or 16; 0: 8 unless
					 * that adds more than 1% to the error */
	double svd_keep;		/* 0: no SVD; else the energy to keep */
};

struct nuq_layer_stats {
	double mse;		/* of the stored values against the fp32 weights */
	double sqnr_db;
	double fixed_err;	/* largest error the fixed-point codebook added */
	size_t bytes;		/* bytes of the section in the file */
	unsigned int rank;	/* SVD rank, 0 without */
};

/*
 * Quantize weight @w (its rows x cols matrix in @mat) into @l.  SVD is
 * applied only to fully connected and 1x1 conv layers, and only when the
 * factors are smaller than the matrix.  Non-finite weights give -EINVAL
 * with a message naming the tensor.
 */
int nuq_qlayer_quantize(const struct nuq_onnx_weight *w, const float *mat,
			const struct nuq_layer_opts *o, struct nuq_qlayer *l,
			struct nuq_layer_stats *st, char *msg, size_t msglen);

/*
 * Data-aware rounding (GPTQ with a codebook; libnuq/src/quant/gptq.c).
 * The second moments of a weight's inputs, H = sum of x x^T over sampled
 * inputs x of one output (for a conv, a patch in the weight matrix's
 * column order): one dim x dim matrix per conv group, rows / groups
 * consecutive rows of the weight matrix per group.
 */
struct nuq_moments {
	size_t dim;		/* the weight matrix's cols */
	size_t groups;
	uint64_t samples;	/* inputs x summed */
	double *h;		/* groups x dim x dim */
	double *sum;		/* groups x dim: sum of x */
};
void nuq_moments_free(struct nuq_moments *m);
/*
 * H about the mean, sum (x - m)(x - m)^T: the error left once a bias
 * correction has taken out what the inputs' mean carries (the quantized
 * executor's default), so rounding spends nothing on it.
 */
void nuq_moments_center(struct nuq_moments *m);

/* What rounding against group k's H needs: a column order and U (H^-1 = U^T U). */
struct nuq_gptq_factor {
	size_t dim;
	size_t *perm;		/* columns by falling H[i][i] */
	double *u;		/* upper, in that order */
};
/* -EDOM when H stays singular however dampened, -ENOMEM. */
int nuq_gptq_factor(const struct nuq_moments *mo, size_t k, struct nuq_gptq_factor *f);
void nuq_gptq_factor_free(struct nuq_gptq_factor *f);
/*
 * Re-choose the indices of rows [@row0, @row0 + @nrows) of codebook matrix
 * @m (the codebooks and scales stay) so that the rows' output error on
 * inputs with factor @f is small, @w being the fp32 weights (rows x cols).
 */
int nuq_qmat_gptq(struct nuq_qmat *m, unsigned int bits, const float *w,
		  const struct nuq_gptq_factor *f, size_t row0, size_t nrows);
/*
 * Layer @l's rounding with one factor per group of @mo (@f[k]); the stats'
 * error fields are measured again, and *@err_energy (unless NULL) gets
 * the error's energy on the inputs, nuq_moments_energy(mo, mat, rounded).
 * Codebook layers without SVD only (-EOPNOTSUPP otherwise).
 */
int nuq_qlayer_gptq(struct nuq_qlayer *l, const float *mat, const struct nuq_moments *mo,
		    const struct nuq_gptq_factor *f, struct nuq_layer_stats *st, double *err_energy);
/*
 * sum over rows of (a - b)^T H (a - b), H the row's group's (@b NULL: of
 * @a itself), @a and @b rows x cols: what a weight error costs the
 * layer's output on inputs with moments @mo.  NaN when @mo does not fit.
 */
double nuq_moments_energy(const struct nuq_moments *mo, const float *a, const float *b,
			  size_t rows, size_t cols);
/* The output's noise-to-signal ratio of weights @deq against @ref: the two energies' ratio. */
double nuq_output_nsr(const struct nuq_moments *mo, const float *ref, const float *deq,
		      size_t rows, size_t cols);

/*
 * Mixed precision: each of @nlayers layers has @nopts options (e.g. bit
 * widths) with an error err[l * nopts + o] and a size bytes[...], sizes
 * ascending per layer.  Choose one option per layer to minimise the total
 * error within @budget bytes (greedy on error saved per byte, which is
 * optimal for convex error curves).  -ENOSPC if even the smallest options
 * exceed the budget.
 */
int nuq_mixed_precision(size_t nlayers, unsigned int nopts, const double *err,
			const double *bytes, double budget, unsigned int *choice);

/*
 * Bytes of what a model quantized into @layers still reads from its ONNX
 * file at run time, at the size the ONNX file stores them: every
 * initializer and Constant tensor except the weights in @layers (biases,
 * BatchNormalization parameters, layers not quantized, shape constants).
 * A .nuq file's bits per weight, all included, is
 * 8 * (file bytes + kept bytes) / weights.
 */
int nuq_onnx_kept_bytes(const struct nuq_onnx *model, const struct nuq_qlayer *layers, size_t n,
			uint64_t *bytes, char *msg, size_t msglen);

struct nuq_section_info {
	uint64_t offset;	/* of the section header in the file */
	uint32_t bytes;		/* payload bytes */
	uint32_t crc;		/* payload CRC32, verified */
};

struct nuq_file {
	uint32_t version;	/* of the file read */
	uint32_t nlayers;
	struct nuq_qlayer *layers;
	struct nuq_section_info *sections;
};

/*
 * In the oldest version that holds @layers: 1, 2 with a NUQ_GRAN_CHANNEL_SCALED
 * layer, 3 with layer flags.
 */
int nuq_file_encode(const struct nuq_qlayer *layers, uint32_t n, uint8_t **buf, size_t *len);
/* In @version; -EINVAL if it cannot hold @layers. */
int nuq_file_encode_version(const struct nuq_qlayer *layers, uint32_t n, unsigned int version,
			    uint8_t **buf, size_t *len);
int nuq_file_write(const char *path, const struct nuq_qlayer *layers, uint32_t n,
		   char *msg, size_t msglen);
int nuq_file_decode(const uint8_t *buf, size_t len, struct nuq_file *f, char *msg,
		    size_t msglen);
int nuq_file_read(const char *path, struct nuq_file *f, char *msg, size_t msglen);
const struct nuq_qlayer *nuq_file_find(const struct nuq_file *f, const char *name);
void nuq_file_free(struct nuq_file *f);

#endif
