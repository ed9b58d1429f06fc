#!/usr/bin/env bash
# Make sure the tests have Fashion-MNIST (Debian's dataset-fashion-mnist package puts all 70,000
# images in /usr/share/datasets/fashion-mnist). As root on a Debian-like system, install it;
# otherwise say how, and go on: the tests that need it skip with that reason.
set -euo pipefail
[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's dataset-fashion-mnist for the Fashion-MNIST tests."
  (DEBIAN_FRONTEND=noninteractive apt-get install -y dataset-fashion-mnist \
     || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y dataset-fashion-mnist; }) \
     || echo "Could not install dataset-fashion-mnist: the Fashion-MNIST tests will skip." >&2
  exit 0
fi
echo "Fashion-MNIST is not installed; its tests will skip. To run them: sudo apt-get install -y dataset-fashion-mnist" >&2
