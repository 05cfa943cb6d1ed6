// libTemperMPI.so: Open MPI calls behind the flat ABI of include/TemperMPI.h.
#include "TemperMPI.h"
#include <mpi.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

int temper_mpi_abi_version(void) { return TEMPER_MPI_ABI_VERSION; }

static void finalize_at_exit(void) {
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (initialized && !finalized) MPI_Finalize();
}

int temper_mpi_init(int *rank, int *size) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
        int rc = MPI_Init(NULL, NULL);
        if (rc != MPI_SUCCESS) return rc;
        atexit(finalize_at_exit);
        // A peer that died makes collectives return an error here instead of aborting inside MPI,
        // so the caller can say which rank it is and what failed.
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    }
    int rc = MPI_Comm_rank(MPI_COMM_WORLD, rank);
    if (rc != MPI_SUCCESS) return rc;
    return MPI_Comm_size(MPI_COMM_WORLD, size);
}

int temper_mpi_allreduce_float(float *buffer, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, buffer, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}

int temper_mpi_allreduce_double(double *buffer, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, buffer, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

int temper_mpi_iallreduce_float(float *buffer, int count, void **request) {
    MPI_Request *r = malloc(sizeof *r);
    if (!r) return MPI_ERR_NO_MEM;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, buffer, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, r);
    if (rc != MPI_SUCCESS) { free(r); return rc; }
    *request = r;
    return MPI_SUCCESS;
}

int temper_mpi_test(void *request, int *done) {
    int rc = MPI_Test((MPI_Request *)request, done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS || *done) free(request);
    if (rc != MPI_SUCCESS) *done = 1;
    return rc;
}

int temper_mpi_wait(void *request) {
    int rc = MPI_Wait((MPI_Request *)request, MPI_STATUS_IGNORE);
    free(request);
    return rc;
}

int temper_mpi_broadcast(void *buffer, int count, int root) {
    return MPI_Bcast(buffer, count, MPI_BYTE, root, MPI_COMM_WORLD);
}

int temper_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }

int temper_mpi_allgather_int64(int64_t value, int64_t *out) {
    return MPI_Allgather(&value, 1, MPI_INT64_T, out, 1, MPI_INT64_T, MPI_COMM_WORLD);
}

int temper_mpi_allgatherv_bytes(const void *bytes, int count, void *out, const int *counts, const int *offsets) {
    return MPI_Allgatherv(bytes, count, MPI_BYTE, out, counts, offsets, MPI_BYTE, MPI_COMM_WORLD);
}

void temper_mpi_error_string(int code, char *buffer, int length) {
    char text[MPI_MAX_ERROR_STRING];
    int n = 0;
    if (MPI_Error_string(code, text, &n) != MPI_SUCCESS) n = snprintf(text, sizeof text, "MPI error %d", code);
    if (length <= 0) return;
    if (n >= length) n = length - 1;
    memcpy(buffer, text, (size_t)n);
    buffer[n] = 0;
}

void temper_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
