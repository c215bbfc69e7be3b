#!/usr/bin/env bash
# Installs FrugalSim's build and test dependencies from Debian's packages; does nothing when all
# are present. Safe to run repeatedly (quickstart.sh and test.sh call it first). Extra package
# names as arguments are installed too (scripts/sanitize.sh adds clang and its runtimes).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libsimgrid-dev
  nlohmann-json3-dev
  libboost-program-options-dev
  libgtest-dev libgmock-dev
  libopenblas-dev
  libopenmpi-dev openmpi-bin
  python3-matplotlib
  poppler-utils
  slurmctld slurmd slurm-client munge
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
