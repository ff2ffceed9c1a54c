#!/usr/bin/env bash
# Tools the tests and notebook 12 use beside the runtime, built from their Go modules:
#   sentry   Dapr's certificate authority (github.com/dapr/dapr@v<runtime> ./cmd/sentry): mTLS
#   etcdctl  the etcd command-line client (go.etcd.io/etcd/etcdctl/v3): the scheduler's keys
#
#   bash runtime/extras.sh              build what is missing or of another version
#   bash runtime/extras.sh --print-bin  the folder they are (or would be) in, no writes
#
# `make run` never needs them: `make test` and `make extras` build them.
# Where: the bin folder of the Dapr home the workbook uses when the workbook built that home
# (its stamp, .workbook-runtime-version, is there), else $WORKBOOK_HOME/extras-<version>/bin:
# a Dapr install the workbook did not make (a learner's `dapr init`) is never written to.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
V=$DAPR_RUNTIME_VERSION
# The scheduler of dapr v1.18.3 embeds etcd v3.5.30; the Go module proxy refuses etcdctl
# v3.5.30 (403), so the nearest served patch release of the same minor line is built.
ETCDCTL_V=3.5.33
WORKBOOK_HOME=${WORKBOOK_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/dapr-jobs-workbook}
work=${DAPR_BUILD_DIR:-$here/../.state/extras-build}
STAMP=.workbook-extras # in the bin folder: one "name=version" line per tool

say() { printf '[extras] %s\n' "$*"; }
die() { printf '[extras] ERROR: %s\n' "$*" >&2; exit 1; }

bin_dir() {
  local home
  home=$(bash "$here/install.sh" --print-home | sed -n 's/^DAPR_HOME=//p')
  if [ -n "$home" ] && [ -f "$home/bin/.workbook-runtime-version" ]; then
    echo "$home/bin"
  else
    echo "$WORKBOOK_HOME/extras-$V/bin"
  fi
}

built_version() { sed -n "s/^$1=//p" "$bin/$STAMP" 2>/dev/null || true; }
record_version() { # name version
  local tmp
  tmp=$(mktemp "$bin/$STAMP.XXXXXX")
  { grep -v "^$1=" "$bin/$STAMP" 2>/dev/null || true; echo "$1=$2"; } >"$tmp"
  mv "$tmp" "$bin/$STAMP"
}
fresh() { [ -x "$bin/$1" ] && [ "$(built_version "$1")" = "$2" ]; }

fetch_source() { # module version dir: a writable copy of the module's source
  local src
  src=$(go mod download -json "$1@v$2" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d["Error"]) if "Error" in d else print(d["Dir"])') ||
    die "the Go module proxy did not serve $1@v$2 (see the error above)."
  rm -rf "$3" && mkdir -p "$(dirname "$3")" && cp -r "$src" "$3" && chmod -R u+w "$3"
}

build_sentry() {
  local dir="$work/dapr" start=$SECONDS
  say "building sentry $V from github.com/dapr/dapr@v$V ./cmd/sentry into $bin."
  fetch_source github.com/dapr/dapr "$V" "$dir"
  # the same substitute as runtime/install.sh (the proxy refuses durabletask-go v0.12.4)
  (cd "$dir" && go mod edit -replace github.com/dapr/durabletask-go=github.com/dapr/durabletask-go@v0.12.1)
  local ld="-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=$V"
  ld+=" -X github.com/dapr/kit/logger.DaprVersion=$V"
  (cd "$dir" && GONOSUMDB=github.com/dapr/durabletask-go CGO_ENABLED=0 go build -mod=mod \
    -trimpath -buildvcs=false -gcflags=all=-dwarf=false -ldflags "$ld" -o "$bin/sentry" ./cmd/sentry)
  record_version sentry "$V"
  rm -rf "$dir"
  say "  built sentry in $((SECONDS - start)) s"
}

build_etcdctl() {
  local dir="$work/etcdctl" start=$SECONDS
  say "building etcdctl $ETCDCTL_V from go.etcd.io/etcd/etcdctl/v3 into $bin."
  fetch_source go.etcd.io/etcd/etcdctl/v3 "$ETCDCTL_V" "$dir"
  # its go.mod points the other etcd modules at sibling folders of etcd's own repository;
  # built alone, they come from the module proxy at the versions it requires
  (cd "$dir" && go mod edit -json | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    print(r["Old"]["Path"])' | while read -r m; do go mod edit -dropreplace "$m"; done)
  (cd "$dir" && CGO_ENABLED=0 go build -mod=mod -trimpath -buildvcs=false \
    -gcflags=all=-dwarf=false -ldflags "-s -w" -o "$bin/etcdctl" .)
  record_version etcdctl "$ETCDCTL_V"
  rm -rf "$dir"
  say "  built etcdctl in $((SECONDS - start)) s"
}

bin=$(bin_dir)
case ${1:-install} in
  --print-bin) echo "$bin"; exit 0 ;;
  install) ;;
  *) die "unknown option $1 (use --print-bin)" ;;
esac

if fresh sentry "$V" && fresh etcdctl "$ETCDCTL_V"; then
  say "sentry $V and etcdctl $ETCDCTL_V in $bin (reused)."
  exit 0
fi
command -v go >/dev/null || die "Go is needed to build sentry and etcdctl (the tests use them); install Go 1.26.6 or newer."
mkdir -p "$bin" "$work"
fresh sentry "$V" || build_sentry
fresh etcdctl "$ETCDCTL_V" || build_etcdctl
