// The flat C ABI of libTemperMPI.so that TemperCore's MPICommunicator binds with dlsym. Every
// function returns an MPI error code (0 = MPI_SUCCESS); MPI_ERRORS_RETURN is set on the world
// communicator, so a failed collective (a peer gone) comes back as a code, not an abort inside MPI.
#ifndef TEMPER_MPI_H
#define TEMPER_MPI_H
#include <stdint.h>

/// Version of this ABI; TemperCore refuses a library with another.
#define TEMPER_MPI_ABI_VERSION 2
int temper_mpi_abi_version(void);

/// MPI_Init (once), MPI_ERRORS_RETURN on MPI_COMM_WORLD, MPI_Finalize registered with atexit.
int temper_mpi_init(int *rank, int *size);
/// In-place sum over all ranks.
int temper_mpi_allreduce_float(float *buffer, int count);
int temper_mpi_allreduce_double(double *buffer, int count);
/// Starts an in-place sum over all ranks (MPI_Iallreduce) and returns its request in `*request`;
/// `buffer` must stay untouched until the request is finished by temper_mpi_test or temper_mpi_wait.
int temper_mpi_iallreduce_float(float *buffer, int count, void **request);
/// Sets `*done` to whether `request` has finished (and frees it then, or on an error); moves MPI's
/// progress along.
int temper_mpi_test(void *request, int *done);
/// Waits for `request` to finish and frees it.
int temper_mpi_wait(void *request);
/// In-place broadcast of `count` bytes from `root`.
int temper_mpi_broadcast(void *buffer, int count, int root);
int temper_mpi_barrier(void);
/// Every rank's int64 `value` into `out[size]`.
int temper_mpi_allgather_int64(int64_t value, int64_t *out);
/// Every rank's bytes, concatenated in rank order into `out` (`counts[r]` bytes from rank r at `offsets[r]`).
int temper_mpi_allgatherv_bytes(const void *bytes, int count, void *out, const int *counts, const int *offsets);
/// The text of an MPI error code, into `buffer` (NUL-terminated).
void temper_mpi_error_string(int code, char *buffer, int length);
/// Ends every rank of the job with `code` (MPI_Abort).
void temper_mpi_abort(int code);
#endif
