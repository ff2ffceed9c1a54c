#!/usr/bin/env bash
# Build the pinned Dapr runtime (daprd, scheduler, placement) and CLI from their Go modules
# and install them where `dapr init --slim` puts them: $DAPR_HOME/bin (default ~/.dapr/bin).
# An install whose versions match the pin is reused: a warm run takes well under a second.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
DAPR_HOME=${DAPR_HOME:-$HOME/.dapr}
bin="$DAPR_HOME/bin"
work=${DAPR_BUILD_DIR:-$here/../.state/runtime-build}

say() { printf '[runtime] %s\n' "$*"; }
die() { printf '[runtime] ERROR: %s\n' "$*" >&2; exit 1; }

installed_version() { # binary -> version it reports, or nothing
  [ -x "$1" ] && "$1" --version 2>/dev/null | head -n 1 | tr -d '[:space:]' || true
}

# daprd reports its version; scheduler and placement have no --version flag, so the build
# leaves a stamp naming the version it built them from.
stamp="$bin/.workbook-runtime-version"
runtime_ok() {
  [ "$(installed_version "$bin/daprd")" = "$DAPR_RUNTIME_VERSION" ] &&
    [ -x "$bin/scheduler" ] && [ -x "$bin/placement" ] &&
    [ "$(cat "$stamp" 2>/dev/null)" = "$DAPR_RUNTIME_VERSION" ]
}

cli_ok() {
  "$bin/dapr" --version 2>/dev/null | grep -q "CLI version: $DAPR_CLI_VERSION"
}

need_go() {
  command -v go >/dev/null ||
    die "Go is not installed. Install Go 1.26.6 or newer (Debian: apt-get install golang-go, or from go.dev), then run this again."
}

# The Go module proxy reachable here refuses (403) a few modules that dapr v1.18.3 requires.
# None of them is on the Jobs path, so the build substitutes or leaves them out, and says so:
#  - github.com/dapr/durabletask-go v0.12.4 (workflow engine): built with v0.12.1, which is served.
#  - github.com/twmb/pulsar-client-go and github.com/iskorotkov/avro/v2 (only the Pulsar pub/sub
#    component imports them): that component's registration file is left out of daprd.
DURABLETASK_SUBSTITUTE=v0.12.1
# (GONOSUMDB: the substitute is not in dapr's go.sum and the checksum database is not served here.)
export GONOSUMDB=github.com/dapr/durabletask-go

fetch_source() { # module version dir: a writable copy of the module's source, built as main module
  local module=$1 version=$2 dir=$3 src
  src=$(go mod download -json "$module@v$version" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d["Error"]) if "Error" in d else print(d["Dir"])') || return 1
  rm -rf "$dir" && mkdir -p "$(dirname "$dir")" && cp -r "$src" "$dir" && chmod -R u+w "$dir"
}

with_progress() { # label command... : runs the command, printing elapsed time every minute
  local label=$1 start=$SECONDS ticker; shift
  ( while sleep 60; do say "  ... still building $label ($(( (SECONDS - start) / 60 )) min)"; done ) &
  ticker=$!
  local rc=0
  "$@" || rc=$?
  kill "$ticker" 2>/dev/null; wait "$ticker" 2>/dev/null || true
  [ $rc -eq 0 ] && say "  built $label in $(( SECONDS - start )) s"
  return $rc
}

build_runtime() {
  local dir="$work/runtime" v=$DAPR_RUNTIME_VERSION
  say "building Dapr runtime $v (daprd, scheduler, placement) from Go modules."
  say "A cold build takes about 5-10 minutes on 2 cores and fills about 5 GB of Go caches; later builds reuse them."
  fetch_source github.com/dapr/dapr "$v" "$dir" || die "the Go module proxy did not serve github.com/dapr/dapr@v$v (see the error above)."
  rm "$dir"/cmd/daprd/components/pubsub_pulsar*.go
  (cd "$dir" && go mod edit -replace "github.com/dapr/durabletask-go=github.com/dapr/durabletask-go@$DURABLETASK_SUBSTITUTE")
  say "  (without the Pulsar pub/sub component; durabletask-go $DURABLETASK_SUBSTITUTE instead of the refused v0.12.4)"
  local ld="-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=$v"
  ld+=" -X github.com/dapr/dapr/pkg/buildinfo.gitversion=v$v"
  ld+=" -X github.com/dapr/dapr/pkg/buildinfo.gitcommit=module-v$v"
  ld+=" -X github.com/dapr/kit/logger.DaprVersion=$v"
  mkdir -p "$dir/out"
  (cd "$dir" && CGO_ENABLED=0 with_progress "daprd, scheduler, placement" \
    go build -mod=mod -trimpath -tags stablecomponents -ldflags "$ld" -o out/ \
    ./cmd/daprd ./cmd/scheduler ./cmd/placement)
  mkdir -p "$bin"
  for b in daprd scheduler placement; do install -m 0755 "$dir/out/$b" "$bin/$b"; done
  echo "$DAPR_RUNTIME_VERSION" >"$stamp"
  rm -rf "$dir"  # the source copy; the Go caches keep what a rebuild needs
}

build_cli() {
  local dir="$work/cli" v=$DAPR_CLI_VERSION
  say "building Dapr CLI $v from its Go module."
  if ! fetch_source github.com/dapr/cli "$v" "$dir" 2>"$work/cli-error.txt"; then
    say "WARNING: the Go module proxy does not serve github.com/dapr/cli@v$v:"
    sed 's/^/[runtime]   /' "$work/cli-error.txt"
    say "The workbook runs without it: 'workbook run -f .' starts dapr.yaml with daprd directly."
    return 0
  fi
  (cd "$dir" && CGO_ENABLED=0 with_progress "dapr CLI" \
    go build -mod=mod -trimpath -ldflags "-s -w -X main.version=$v -X main.apiVersion=1.0" -o out/dapr .)
  install -m 0755 "$dir/out/dapr" "$bin/dapr"
}

lay_out() { # what `dapr init --slim` creates besides the binaries
  mkdir -p "$DAPR_HOME/components"
  [ -f "$DAPR_HOME/config.yaml" ] || cat >"$DAPR_HOME/config.yaml" <<'YAML'
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: daprConfig
spec: {}
YAML
}

mkdir -p "$work"
if runtime_ok; then
  say "Dapr runtime $DAPR_RUNTIME_VERSION already installed in $bin (reused)."
else
  need_go
  build_runtime
  runtime_ok || die "the built binaries do not report version $DAPR_RUNTIME_VERSION."
fi
if cli_ok; then
  say "Dapr CLI $DAPR_CLI_VERSION already installed (reused)."
elif [ "${DAPR_SKIP_CLI:-}" != 1 ]; then
  need_go
  build_cli
fi
lay_out
