#!/usr/bin/env bash
# Install the Debian packages godwit needs to build, test and demo. As root it
# installs what is missing; otherwise it prints the exact command to run.
set -euo pipefail

PKGS=(gcc make cmake pkg-config libmariadb-dev libpq-dev libevent-dev libjansson-dev
      libcmocka-dev tzdata curl python3 bc mariadb-server mariadb-client postgresql-15
      postgresql-client-15
      # bench/: the tools it compares with, its reports and plots
      percona-toolkit postgresql-15-repack jq gnuplot-nox time)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "bootstrap: missing packages: ${missing[*]}" >&2
	echo "bootstrap: run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "bootstrap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Packaged servers must not start system-wide instances: the scratch script
# runs its own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
