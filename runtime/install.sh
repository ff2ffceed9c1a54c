#!/usr/bin/env bash
# The Dapr runtime (daprd, scheduler, placement) the workbook uses, found or built.
#
#   bash runtime/install.sh              reuse or build, then record the choice
#   bash runtime/install.sh --print-home the Dapr home the workbook uses (KEY=value lines), no writes
#   bash runtime/install.sh --dry-run    what a set-up would do, no writes, no network, no Go
#
# Which Dapr home (the same rule workbook/config.py reads back from the record):
#   1. DAPR_HOME, when set: reused if it holds Dapr 1.18.x; built into only if it is empty or
#      the workbook's own build; any other Dapr there is refused, never replaced.
#   2. ~/.dapr, when it holds daprd 1.18.x with scheduler and placement (`dapr init --slim`, or
#      an earlier set-up): reused as it is. Nothing in ~/.dapr is ever written.
#   3. Otherwise the workbook's own home, outside the clone so every clone shares it:
#      $WORKBOOK_HOME/dapr-<version>/.dapr  (WORKBOOK_HOME defaults to
#      ${XDG_DATA_HOME:-~/.local/share}/dapr-jobs-workbook); built there when missing.
# The choice is recorded in $WORKBOOK_HOME/runtime-<version>.env. So is a module the Go proxy
# refused (the Dapr CLI), so a warm set-up asks nothing of the network and needs no Go.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
V=$DAPR_RUNTIME_VERSION
CLI_V=$DAPR_CLI_VERSION
mode=${1:-install}
WORKBOOK_HOME=${WORKBOOK_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/dapr-jobs-workbook}
record="$WORKBOOK_HOME/runtime-$V.env"
own_home="$WORKBOOK_HOME/dapr-$V/.dapr"
components=${DAPR_COMPONENTS:-workbook}
work=${DAPR_BUILD_DIR:-$here/../.state/runtime-build}
STAMP=.workbook-runtime-version # in <home>/bin: "<version>", "components=<set>", "kubernetes=no"
# (kubernetes=no: built without the Kubernetes-only code, see leave_out_kubernetes)

say() { printf '[runtime] %s\n' "$*"; }
die() { printf '[runtime] ERROR: %s\n' "$*" >&2; exit 1; }

memo_home='' memo_version=''
daprd_version() { # home -> the version its daprd reports, or nothing (asked once per home)
  if [ "$memo_home" != "$1" ]; then
    memo_home=$1
    memo_version=$([ -x "$1/bin/daprd" ] && "$1/bin/daprd" --version 2>/dev/null | head -n 1 | tr -d '[:space:]' || true)
  fi
  echo "$memo_version"
}
is_1_18() { [[ $1 =~ ^1\.18\.[0-9]+$ ]]; }
complete_1_18() { # home: daprd 1.18.x, scheduler and placement
  is_1_18 "$(daprd_version "$1")" && [ -x "$1/bin/scheduler" ] && [ -x "$1/bin/placement" ]
}
ours() { [ -f "$1/bin/$STAMP" ]; }
stamp_version() { head -n 1 "$1/bin/$STAMP" 2>/dev/null || true; }
stamp_components() { sed -n 's/^components=//p' "$1/bin/$STAMP" 2>/dev/null || true; }
# Our builds since the Kubernetes code was left out (see leave_out_kubernetes) say so: an earlier
# one of ours (without the line) is rebuilt once, in the workbook's home or an explicit DAPR_HOME.
built_as_now() { ! ours "$1" || [ "$(sed -n 's/^kubernetes=//p' "$1/bin/$STAMP" 2>/dev/null)" = no ]; }
has_components() { # home: does its daprd register the requested set?
  [ "$components" = workbook ] || ! ours "$1" || [ "$(stamp_components "$1")" = all ] ||
    [ "$(stamp_components "$1")" = "$components" ]
}
empty_home() { [ ! -e "$1/bin" ] || [ -z "$(ls -A "$1/bin")" ]; }
describe() { # home -> what is there, for messages
  local v; v=$(daprd_version "$1")
  if [ -n "$v" ]; then echo "daprd $v$([ -x "$1/bin/scheduler" ] || echo ', no scheduler')$([ -x "$1/bin/placement" ] || echo ', no placement')"
  elif [ -e "$1/bin/daprd" ]; then echo "a daprd that reports no version"
  else echo "no daprd"; fi
}

# Decide: sets home, origin (explicit | reused | workbook) and action (reuse | build).
choose_home() {
  if [ -n "${DAPR_HOME:-}" ]; then
    home=$DAPR_HOME origin=explicit
    if complete_1_18 "$home" && has_components "$home" && built_as_now "$home"; then action=reuse
    elif empty_home "$home" || ours "$home"; then action=build
    else
      die "DAPR_HOME=$home holds a Dapr the workbook did not install ($(describe "$home"), not 1.18.x with scheduler and placement). The workbook leaves it alone: unset DAPR_HOME, or point it at an empty folder."
    fi
  elif complete_1_18 "$HOME/.dapr" && has_components "$HOME/.dapr"; then
    home=$HOME/.dapr origin=reused action=reuse
  else
    home=$own_home origin=workbook action=build
    # our own build is known by its stamp: no need to start its daprd
    if [ "$(stamp_version "$home")" = "$V" ] && [ -x "$home/bin/daprd" ] && [ -x "$home/bin/scheduler" ] &&
      [ -x "$home/bin/placement" ] && has_components "$home" && built_as_now "$home"; then
      action=reuse
    fi
  fi
}

home_record() { # the KEY=value lines workbook/config.py reads
  echo "DAPR_HOME=$home"
  echo "DAPR_HOME_ORIGIN=$origin"
  # the real CLI finds a Dapr home only as <runtime path>/.dapr (DAPR_RUNTIME_PATH)
  [ "$(basename "$home")" = .dapr ] && echo "DAPR_RUNTIME_PATH=$(dirname "$home")" || true
}
write_record() {
  local tmp
  mkdir -p "$WORKBOOK_HOME"
  tmp=$(mktemp "$record.XXXXXX")
  { echo "# written by runtime/install.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ); read by workbook/config.py"
    home_record; } >"$tmp"
  mv "$tmp" "$record"
}

# The Go module proxy reachable here refuses (403) a few modules that dapr v1.18.3 requires.
# None of them is on the Jobs path, so the build substitutes or leaves them out, and says so:
#  - github.com/dapr/durabletask-go v0.12.4 (workflow engine): built with v0.12.1, which is served.
#  - github.com/twmb/pulsar-client-go and github.com/iskorotkov/avro/v2 (only the Pulsar pub/sub
#    component imports them): that component's registration file is left out of daprd.
DURABLETASK_SUBSTITUTE=v0.12.1
# (GONOSUMDB: the substitute is not in dapr's go.sum and the checksum database is not served here.)
export GONOSUMDB=github.com/dapr/durabletask-go

need_go() {
  command -v go >/dev/null ||
    die "Go is not installed, and Dapr $V must be built into $home. Install Go 1.26.6 or newer (Debian: apt-get install golang-go, or from go.dev), or install Dapr 1.18 with \`dapr init --slim\`, then run this again."
}

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

keep_components() { # source dir: leave only the registration files daprd should have
  local dir=$1/cmd/daprd/components f
  rm -f "$dir"/pubsub_pulsar*.go "$dir"/*_test.go
  [ "$components" = all ] && return 0
  local keep
  keep=$(sed 's/#.*//' "$here/daprd-components.txt" | tr -s ' \n' '\n' | grep -v '^$')
  for f in $keep; do [ -f "$dir/$f" ] || die "runtime/daprd-components.txt names $f, which daprd $V does not have."; done
  for f in "$dir"/*.go; do
    grep -qxF "$(basename "$f")" <<<"$keep" || [ "$(basename "$f")" = zz_notag.go ] || rm "$f"
  done
}

# The Kubernetes code no process of this build runs. dapr's packages import client-go and the
# Kubernetes API types through four edges, none of them on a self-hosted path; cut here, in the
# build's copies (nothing of Dapr's or Kubernetes' is kept in this repository), they take 416
# packages out of the build, a third less CPU (README, "Kubernetes code left out"):
#  1. utils/kubernetes.go (GetConfig, GetKubeClient; only the injector and sentry call them):
#     removed from the source copy.
#  2. the scheduler's namespace controller (pkg/scheduler/server/internal/controller, started
#     only with --mode kubernetes): replaced by runtime/self-hosted/scheduler-controller.go,
#     whose New fails with a message saying so.
#  3. sigs.k8s.io/controller-runtime/pkg/client, which dapr's API types import for the Object
#     interface only: a copy of the module keeps only object.go in that package.
#  4. k8s.io/apiserver/pkg/cel/library, in the CEL checks of daprd's resource validation, which
#     imports the serviceaccount package for one user.Info: a copy of the module, edited by
#     runtime/self-hosted/patch-cel-authz.py.
# The two module copies are used through `replace` directives (go build -overlay may not replace
# files in the module cache); k8s.io/api, client-go and what only they import are not downloaded.
# On Kubernetes the workbook uses Dapr's own images, which have all of it.
KUBE_MODULES="k8s.io/apiserver sigs.k8s.io/controller-runtime"
leave_out_kubernetes() { # source dir
  local dir=$1 mods=.kubernetes-modules ctl=$1/pkg/scheduler/server/internal/controller path src
  [ -f "$dir/utils/kubernetes.go" ] && [ -f "$ctl/controller.go" ] ||
    die "dapr $V's utils/kubernetes.go or scheduler controller is not where runtime/install.sh expects it."
  rm "$dir/utils/kubernetes.go" "$ctl"/*.go
  install -m 0644 "$here/self-hosted/scheduler-controller.go" "$ctl/controller.go"
  for path in $KUBE_MODULES; do  # the versions dapr's go.mod selects, copied into the source copy
    src=$(cd "$dir" && go mod download "$path" && go list -m -f '{{.Dir}}' "$path") ||
      die "the Go module proxy did not serve $path (see the error above)."
    mkdir -p "$(dirname "$dir/$mods/$path")" && cp -r "$src" "$dir/$mods/$path" && chmod -R u+w "$dir/$mods/$path"
    (cd "$dir" && go mod edit -replace "$path=./$mods/$path")  # relative: no build path in the binaries
  done
  local client=$dir/$mods/sigs.k8s.io/controller-runtime/pkg/client
  [ -f "$client/object.go" ] ||
    die "sigs.k8s.io/controller-runtime has no pkg/client/object.go where runtime/install.sh expects it."
  find "$client" -maxdepth 1 -name '*.go' ! -name object.go -delete
  python3 "$here/self-hosted/patch-cel-authz.py" "$dir/$mods/k8s.io/apiserver/pkg/cel/library/authz.go" ||
    die "k8s.io/apiserver's pkg/cel/library/authz.go is not as runtime/self-hosted/patch-cel-authz.py expects."
}

# The cold build, measured on one 2-core machine (README, "How Dapr is built here"): compiling
# and linking the three took about 350 s of CPU at load 3 (a third of it Kubernetes' client-go
# and API types, which dapr's own packages import, so no registration file can leave them out;
# 13% the standard library; the three links about 45 s), about 235 s with the Kubernetes code
# left out as above; the modules (0.6 GB) download in 20-30 s, mostly waiting on the network.
# So the build:
#  - compiles the standard library (25 packages and what they import: exactly the standard
#    packages the three binaries use) while the modules download, so neither waits for the other;
#  - downloads the modules the three commands import (not every module of dapr's go.mod) with
#    8 requests in flight instead of one per core;
#  - runs the compiler and linker with GOGC=400: they collect garbage less often, for about 11%
#    less CPU (GOGC=off saves no more and doubles the memory); the largest process stays under
#    1 GB;
#  - builds daprd, scheduler and placement in one `go build`, so shared packages compile once.
# Tried and dropped: no inlining in the Kubernetes packages (-gcflags=k8s.io/...=-l: 140 s of
# CPU for client-go instead of 141 s, no gain). Left out on purpose: -N or -l everywhere (a
# slower daprd than the one the notebooks' timings come from), one multi-call binary for the
# three (it would need Go code of our own around dapr's commands).
STD_ROOTS="container/heap container/ring crypto/pbkdf2 database/sql embed
  encoding/base32 encoding/csv encoding/xml expvar go/doc go/format hash/crc64 hash/fnv
  hash/maphash io/ioutil log/slog net/http/httputil net/http/pprof net/mail net/rpc os/exec
  os/signal os/user runtime/metrics testing"
BUILD_FLAGS=(-trimpath -gcflags=all=-dwarf=false)  # the standard library's warm-up uses them too
export GOGC=${GOGC:-400}

warm_std() { # compile the standard packages the build needs into the Go cache; quiet, best effort
  # shellcheck disable=SC2086  # STD_ROOTS is a list of words
  (cd "$work" && CGO_ENABLED=0 go build "${BUILD_FLAGS[@]}" $STD_ROOTS) >/dev/null 2>&1 || true
}

build_runtime() {
  local dir="$work/runtime" warm
  say "building Dapr runtime $V (daprd, scheduler, placement) from Go modules into $home/bin."
  case $components in
    workbook) say "  daprd with the components the workbook uses (runtime/daprd-components.txt); DAPR_COMPONENTS=all for every stable one." ;;
    all) say "  daprd with every stable component (except Pulsar)." ;;
    *) die "DAPR_COMPONENTS must be 'workbook' (the default) or 'all', not '$components'." ;;
  esac
  say "A cold build takes a few minutes on 2 cores and fills the Go caches; later builds reuse them."
  warm_std &
  warm=$!
  trap 'kill "$warm" 2>/dev/null || true' EXIT
  fetch_source github.com/dapr/dapr "$V" "$dir" || die "the Go module proxy did not serve github.com/dapr/dapr@v$V (see the error above)."
  keep_components "$dir"
  (cd "$dir" && go mod edit -replace "github.com/dapr/durabletask-go=github.com/dapr/durabletask-go@$DURABLETASK_SUBSTITUTE")
  say "  (without the Pulsar pub/sub component; durabletask-go $DURABLETASK_SUBSTITUTE instead of the refused v0.12.4)"
  leave_out_kubernetes "$dir"
  say "  (without the Kubernetes-only code: the scheduler's --mode kubernetes, the injector's and sentry's client helpers)"
  # -tags stablecomponents selects the registration files that are left (none is excluded).
  local cmds=(./cmd/daprd ./cmd/scheduler ./cmd/placement) tags=(-mod=mod -tags stablecomponents)
  local deps
  deps=$(cd "$dir" && CGO_ENABLED=0 GOMAXPROCS=8 go list "${tags[@]}" -deps "${cmds[@]}") ||
    die "the Go module proxy did not serve a module daprd, scheduler or placement imports (see above)."
  # (with every component, the Kubernetes secret store brings client-go back: it is a client itself)
  [ "$components" = all ] || ! grep -qE '^(k8s\.io/client-go|k8s\.io/api)/' <<<"$deps" ||
    die "daprd, scheduler or placement still import client-go or k8s.io/api: leave_out_kubernetes missed an edge."
  wait "$warm" || true
  trap - EXIT
  local ld="-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=$V"
  ld+=" -X github.com/dapr/dapr/pkg/buildinfo.gitversion=v$V"
  ld+=" -X github.com/dapr/dapr/pkg/buildinfo.gitcommit=module-v$V"
  ld+=" -X github.com/dapr/kit/logger.DaprVersion=$V"
  mkdir -p "$dir/out"
  # No debug information is compiled (the link strips it anyway: -s -w), no VCS stamp is read
  # (the source copy may sit inside a git clone).
  (cd "$dir" && CGO_ENABLED=0 with_progress "daprd, scheduler, placement" \
    go build "${tags[@]}" "${BUILD_FLAGS[@]}" -buildvcs=false -ldflags "$ld" -o out/ "${cmds[@]}")
  mkdir -p "$home/bin"
  for b in daprd scheduler placement; do install -m 0755 "$dir/out/$b" "$home/bin/$b"; done
  printf '%s\ncomponents=%s\nkubernetes=no\n' "$V" "$components" >"$home/bin/$STAMP"
  rm -rf "$dir"  # the source copy; the Go caches keep what a rebuild needs
}

lay_out() { # what `dapr init --slim` creates besides the binaries: only in a home we built
  mkdir -p "$home/components"
  [ -f "$home/config.yaml" ] || cat >"$home/config.yaml" <<'YAML'
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: daprConfig
spec: {}
YAML
}

# --- the Dapr CLI: used when on PATH, never asked for again once the proxy refused it --------
cli_refusal="$WORKBOOK_HOME/refused/github.com_dapr_cli@v$CLI_V.txt"
cli_bin="$WORKBOOK_HOME/bin/dapr"
path_cli() { # the Dapr CLI 1.18.x on PATH, if any
  local p; p=$(command -v dapr 2>/dev/null) || return 1
  # (its output is read whole first: `grep -q` on a pipe would break it, and pipefail would tell)
  grep -qE '^CLI version: 1\.18\.[0-9]+' <<<"$("$p" --version 2>/dev/null)" && echo "$p"
}
cli_step() { # $1: dry (say only)
  local p when
  if p=$(path_cli); then
    say "Dapr CLI $("$p" --version | sed -n 's/^CLI version: //p') on PATH ($p): \`make run\` uses it; none is built."
  elif [ -x "$cli_bin" ] && grep -q "CLI version: $CLI_V" <<<"$("$cli_bin" --version 2>/dev/null)"; then
    say "Dapr CLI $CLI_V already built in $cli_bin (reused)."
  elif [ "${DAPR_SKIP_CLI:-}" = 1 ]; then
    :
  elif [ -f "$cli_refusal" ] && [ "${RETRY_CLI:-}" != 1 ]; then
    when=$(sed -n 's/^date: //p' "$cli_refusal")
    say "Dapr CLI: not built; the Go module proxy refused github.com/dapr/cli@v$CLI_V on $when ($cli_refusal); \`workbook run\` stands in. Retry: make runtime RETRY_CLI=1"
  elif [ "${1:-}" = dry ]; then
    say "would try to build the Dapr CLI $CLI_V into $cli_bin (from the Go module proxy)."
  elif ! command -v go >/dev/null; then
    say "Dapr CLI: not built (no Go on PATH); \`workbook run\` stands in."
  else
    build_cli
  fi
}
build_cli() {
  local dir="$work/cli" err="$work/cli-error.txt"
  mkdir -p "$work"
  say "building Dapr CLI $CLI_V from its Go module."
  if ! fetch_source github.com/dapr/cli "$CLI_V" "$dir" 2>"$err"; then
    mkdir -p "$(dirname "$cli_refusal")"
    { echo "module: github.com/dapr/cli@v$CLI_V"
      echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
      echo "proxy: $(go env GOPROXY)"
      echo "error:"; sed 's/^/  /' "$err"; } >"$cli_refusal"
    say "Dapr CLI: the Go module proxy refused github.com/dapr/cli@v$CLI_V: $(head -n 1 "$err")"
    say "Recorded in $cli_refusal (not asked again; make runtime RETRY_CLI=1 retries); \`workbook run\` stands in."
    return 0
  fi
  (cd "$dir" && CGO_ENABLED=0 with_progress "dapr CLI" \
    go build -mod=mod -trimpath -ldflags "-s -w -X main.version=$CLI_V -X main.apiVersion=1.0" -o out/dapr .)
  mkdir -p "$(dirname "$cli_bin")"
  install -m 0755 "$dir/out/dapr" "$cli_bin"
  rm -f "$cli_refusal"
}

# --- main ---------------------------------------------------------------------------------
case $mode in
  --print-home)
    if [ -n "${DAPR_HOME:-}" ]; then home=$DAPR_HOME origin=explicit  # as given, not checked
    elif [ -f "$record" ]; then grep -v '^#' "$record"; exit 0
    else choose_home; fi
    home_record; exit 0 ;;
  --dry-run)
    choose_home
    case $origin/$action in
      */reuse) say "would reuse the Dapr runtime in $home ($(describe "$home"); origin: $origin)." ;;
      *) say "would build Dapr runtime $V (components: $components) into $home/bin." ;;
    esac
    [ "$origin" = workbook ] && [ -e "$HOME/.dapr" ] && say "$HOME/.dapr ($(describe "$HOME/.dapr")) would be left as it is."
    cli_step dry; exit 0 ;;
  install) ;;
  *) die "unknown option $mode (use --print-home or --dry-run)" ;;
esac

choose_home
if [ "$action" = reuse ]; then
  case $origin in
    workbook) say "Dapr runtime $V in $home/bin (the workbook's build, reused)." ;;
    *) if ours "$home"; then  # stamped: an earlier set-up of the workbook built it there
         say "Dapr runtime $V in $home/bin (a build of the workbook's, reused; make extras may add sentry and etcdctl)."
       else
         say "Dapr runtime $(daprd_version "$home") in $home/bin: reused as it is (the workbook writes nothing there)."
       fi ;;
  esac
else
  [ "$origin" = workbook ] && [ -e "$HOME/.dapr" ] &&
    say "$HOME/.dapr holds $(describe "$HOME/.dapr"), not Dapr 1.18.x with scheduler and placement: left as it is."
  need_go
  mkdir -p "$work"
  build_runtime
  complete_1_18 "$home" || die "the built binaries in $home/bin do not report version 1.18.x."
  lay_out
fi
[ -n "${DAPR_HOME:-}" ] || { [ "$(grep -v '^#' "$record" 2>/dev/null)" = "$(home_record)" ] || write_record; }
cli_step
