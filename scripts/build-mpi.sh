#!/usr/bin/env bash
# Builds libTemperMPI.so (the TemperMPI package: Temper's collectives on Open MPI) and puts it next
# to .build/release/temper, where `temper` looks for it when started by mpirun. Needs Open MPI's
# headers and pkg-config file: apt-get install openmpi-bin libopenmpi-dev. A package of its own so
# that `swift build` of Temper needs no Open MPI (see TemperMPI/Package.swift).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! pkg-config --exists ompi-c; then
    echo "build-mpi: Open MPI's development files are missing (pkg-config ompi-c): apt-get install openmpi-bin libopenmpi-dev" >&2
    exit 1
fi
swift build -c release --package-path TemperMPI
mkdir -p .build/release
cp TemperMPI/.build/release/libTemperMPI.so .build/release/libTemperMPI.so.tmp
mv .build/release/libTemperMPI.so.tmp .build/release/libTemperMPI.so
echo "build-mpi: .build/release/libTemperMPI.so"
