/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef NUQ_OPENBLAS_H
#define NUQ_OPENBLAS_H

/*
 * Whether to call an OpenBLAS routine: @linked (its weak reference is
 * set: the program is linked with -lopenblas) and the environment
 * variable @knob is not "own".  The first use keeps OpenBLAS on one
 * thread unless OPENBLAS_NUM_THREADS or OMP_NUM_THREADS say otherwise:
 * nuq runs its own threads, and OpenBLAS's waiting ones (sched_yield
 * loops) cost more than they bring on small problems.
 */
int nuq_openblas_use(int linked, const char *knob);

#endif
