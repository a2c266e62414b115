#!/usr/bin/env bash
# make bench-peers: measure esig against step-ca, cfssl, openssl and xmlsec1
# on this machine under the same load, and print the table of ratios
# (tools/benchpeers).
#
# The peers are never part of the repository. step-ca and cfssl are built
# from the Go module proxy into a directory outside it ($ESIG_PEERS_DIR,
# default $TMPDIR/esig-bench-peers, kept between runs so the build happens
# once), with their own GOPATH there; openssl and xmlsec1 come from Debian
# packages when the system lacks them. A peer that cannot be had is left out
# of the table with the reason.
#
# Usage: scripts/bench-peers.sh ESIG_BINARY [benchpeers flags: -n 3000 -c 32 -docs 100 -o table.md ...]
set -euo pipefail
cd "$(dirname "$0")/.."

esig=${1:?usage: $0 ESIG_BINARY [benchpeers flags]}
shift
peers=${ESIG_PEERS_DIR:-${TMPDIR:-/tmp}/esig-bench-peers}
# Tagged versions that build with the installed Go (1.26); newer step-ca
# releases may ask for a newer toolchain, which is never downloaded here.
step_ca_version=${STEP_CA_VERSION:-v0.30.2}
cfssl_version=${CFSSL_VERSION:-v1.6.5}
mkdir -p "$peers/bin"

args=()
say() { echo "bench-peers: $*" >&2; }

# go_peer NAME PACKAGE VERSION: the peer's binary on PATH, or built into
# $peers/bin; prints its path, or nothing (with the reason in $peers/NAME.skip).
go_peer() {
  local name=$1 pkg=$2 version=$3
  rm -f "$peers/$name.skip"
  if command -v "$name" >/dev/null; then command -v "$name"; return; fi
  if [ -x "$peers/bin/$name" ]; then echo "$peers/bin/$name"; return; fi
  say "building $name $version from the Go module proxy into $peers (a few minutes, once)"
  # CGO off: step-ca's YubiKey support would otherwise want libpcsclite.
  if (cd "$peers" && env GOTOOLCHAIN=local GOPATH="$peers/gopath" GOBIN="$peers/bin" GOFLAGS="-modcacherw -buildvcs=false" \
        CGO_ENABLED=0 go install "$pkg@$version") >"$peers/$name.build.log" 2>&1; then
    echo "$peers/bin/$name"
  else
    say "$name could not be built; see $peers/$name.build.log"
    echo "go install $pkg@$version failed: $(grep -v '^go: downloading' "$peers/$name.build.log" | tail -n 1 | tr -s '[:space:]' ' ')" >"$peers/$name.skip"
  fi
}

# deb_peer NAME PACKAGE: the command from the system, installing the Debian
# package where it is missing and apt-get is at hand.
deb_peer() {
  local name=$1 pkg=$2
  rm -f "$peers/$name.skip"
  if ! command -v "$name" >/dev/null && command -v apt-get >/dev/null; then
    say "installing $pkg from Debian"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$pkg"; } >&2 || true
  fi
  if command -v "$name" >/dev/null; then command -v "$name"; else echo "$pkg is not installed and could not be installed" >"$peers/$name.skip"; fi
}

step_ca=$(go_peer step-ca github.com/smallstep/certificates/cmd/step-ca "$step_ca_version")
cfssl=$(go_peer cfssl github.com/cloudflare/cfssl/cmd/cfssl "$cfssl_version")
openssl=$(deb_peer openssl openssl)
xmlsec1=$(deb_peer xmlsec1 xmlsec1)
# wrk drives the OCSP workloads: a Go client would spend more of the shared
# machine than the fastest responders do (without it, benchpeers uses one).
wrk=$(deb_peer wrk wrk)
if [ -n "$wrk" ]; then args+=(-wrk "$wrk"); fi
if [ -n "$step_ca" ]; then args+=(-step-ca "$step_ca"); else args+=(-step-ca "" -skip "step-ca=$(cat "$peers/step-ca.skip")"); fi
if [ -n "$cfssl" ]; then
  args+=(-cfssl "$cfssl")
else
  reason=$(cat "$peers/cfssl.skip")
  args+=(-cfssl "" -skip "cfssl serve=$reason" -skip "cfssl ocspserve=$reason")
fi
if [ -n "$openssl" ]; then
  args+=(-openssl "$openssl")
else
  reason=$(cat "$peers/openssl.skip")
  args+=(-openssl "" -skip "openssl ocsp=$reason" -skip "openssl cms -verify=$reason")
fi
if [ -n "$xmlsec1" ]; then args+=(-xmlsec1 "$xmlsec1"); else args+=(-xmlsec1 "" -skip "xmlsec1 --verify=$(cat "$peers/xmlsec1.skip")"); fi

say "step-ca: ${step_ca:-none}; cfssl: ${cfssl:-none}; openssl: ${openssl:-none}; xmlsec1: ${xmlsec1:-none}; wrk: ${wrk:-none (Go client)}"
go run ./tools/benchpeers -esig "$esig" "${args[@]}" "$@"
