/* The floating-point environment nabla computes in: whether subnormal
 * floats are flushed to zero (nb_set_flush_denormals). */
#ifndef NABLA_KERNELS_FPENV_H
#define NABLA_KERNELS_FPENV_H

/* The control part of this thread's floating-point environment (rounding,
 * flushing, exception masks; not the sticky exception flags). */
unsigned nb__fp_control(void);

/* Give this thread the control part `control` (from nb__fp_control). */
void nb__fp_set_control(unsigned control);

/* Enter nabla's compute mode on this thread: subnormals flushed when
 * nb_flush_denormals() is true, otherwise the environment is left alone.
 * Returns what nb__fp_leave needs to restore the caller's mode. */
unsigned nb__fp_enter(void);

/* Restore the flushing mode saved by nb__fp_enter. Exception flags this
 * thread raised meanwhile are kept, as a caller testing them would expect;
 * those raised on the pool's workers stay there. */
void nb__fp_leave(unsigned saved);

#endif
