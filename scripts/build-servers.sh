#!/usr/bin/env bash
# Builds the lab's real servers from their Go modules into a per-user cache, each in its own throwaway module
# (none of their code is ever part of this repository). Idempotent: a server whose stamp file exists is not
# rebuilt. The one table of versions is scripts/servers.tsv (read by src/lab/servers.ts as well).
#
#   bash scripts/build-servers.sh            build every server that is missing
#   bash scripts/build-servers.sh NAME ...   only these (name or name-version)
#
# Cache: ${STACKSHIFT_SERVERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/stackshift/servers}/<name>-<version>/
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
table="$here/servers.tsv"
cache="${STACKSHIFT_SERVERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/stackshift/servers}"

if ! command -v go >/dev/null 2>&1; then
  echo "build-servers: Go is not on PATH; the lab builds Prometheus, Jaeger, VictoriaMetrics, Alertmanager and VictoriaLogs from their Go modules: install Go >= 1.26 (https://go.dev/doc/install, or Debian's golang-go if new enough) and rerun" >&2
  exit 2
fi

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
mkdir -p "$cache"

want=("$@")
selected() {
  [ ${#want[@]} -eq 0 ] && return 0
  local w
  for w in "${want[@]}"; do [ "$w" = "$1" ] || [ "$w" = "$1-$2" ] && return 0; done
  return 1
}

# Builds one table row. Columns: name version kind module-version package(s) [tags]
build_one() {
  local name="$1" version="$2" kind="$3" modver="$4" pkgs="$5" tags="${6:--}"
  local dest="$cache/$name-$version"
  [ -f "$dest/.built" ] && return 0
  # two setups at once (two checkouts, say) build each server once: the second waits, then finds the stamp
  exec {lockfd}>"$cache/.$name-$version.lock"
  flock "$lockfd"
  if [ -f "$dest/.built" ]; then exec {lockfd}>&-; return 0; fi
  local work; work="$(mktemp -d "${TMPDIR:-/tmp}/stackshift-build-$name-$version.XXXXXX")"
  local started; started=$(date +%s)
  echo "build-servers: building $name $version ($kind $modver) ..." >&2
  local module="${pkgs%%/cmd/*}"; module="${module%%/app/*}"
  local ldflags="-s -w"
  (
    cd "$work"
    go mod init stackshift.local/build-"$name" >/dev/null 2>&1
    # A dependent module ignores the replace and exclude lines of the module it builds (Prometheus replaces
    # klog with klog-gokit, for one): carry them over from that module's own go.mod, at its version.
    local dl; dl="$(go mod download -json "$module@$modver")"
    local gomod; gomod="$(printf '%s' "$dl" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).GoMod))')"
    local srcdir; srcdir="$(printf '%s' "$dl" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).Dir))')"
    # Prometheus and Alertmanager ship a VERSION file: the module version must be the release we name
    if [ -f "$srcdir/VERSION" ] && [ "$(tr -d '[:space:]' < "$srcdir/VERSION")" != "$version" ]; then
      echo "build-servers: $module@$modver is release $(cat "$srcdir/VERSION"), not $version: fix scripts/servers.tsv" >&2
      exit 1
    fi
    go mod edit -json "$gomod" | node -e '
      let s=""; process.stdin.on("data",d=>s+=d).on("end",()=>{
        const m=JSON.parse(s); const out=[];
        for (const r of m.Replace??[]) {
          if (!r.New.Version) { console.error("build-servers: skipping local replace of "+r.Old.Path); continue; }
          out.push("-replace="+r.Old.Path+(r.Old.Version?"@"+r.Old.Version:"")+"="+r.New.Path+"@"+r.New.Version);
        }
        for (const e of m.Exclude??[]) out.push("-exclude="+e.Path+"@"+e.Version);
        if (out.length) console.log(out.join("\n"));
      })' > "$work/directives"
    if [ -s "$work/directives" ]; then xargs -d '\n' go mod edit < "$work/directives"; fi
    local p
    for p in $pkgs; do go get -tool "$p@$modver" >&2; done
    mkdir -p "$work/bin"
    case "$kind" in
      prometheus)
        local rev; rev="$(go list -m -f '{{.Version}}' github.com/prometheus/prometheus)"
        ldflags="$ldflags -X github.com/prometheus/common/version.Version=$version"
        ldflags="$ldflags -X github.com/prometheus/common/version.Revision=$rev"
        ldflags="$ldflags -X github.com/prometheus/common/version.Branch=release-${version%.*}"
        ldflags="$ldflags -X github.com/prometheus/common/version.BuildUser=stackshift@lab"
        ;;
      alertmanager)
        ldflags="$ldflags -X github.com/prometheus/common/version.Version=$version"
        ldflags="$ldflags -X github.com/prometheus/common/version.Revision=$modver"
        ldflags="$ldflags -X github.com/prometheus/common/version.Branch=release-${version%.*}"
        ;;
      victoria)
        ldflags="$ldflags -X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=${name}-$modver"
        ;;
    esac
    local tagflag=()
    [ "$tags" != "-" ] && tagflag=(-tags "$tags")
    go build -trimpath "${tagflag[@]}" -ldflags "$ldflags" -o "$work/bin/" $pkgs >&2
  ) || { echo "build-servers: FAILED to build $name $version (work dir kept: $work)" >&2; exec {lockfd}>&-; return 1; }
  rm -rf "$dest.tmp"; mkdir -p "$dest.tmp"
  cp "$work"/bin/* "$dest.tmp/"
  printf '%s %s %s\n' "$name" "$version" "$modver" > "$dest.tmp/.built"
  rm -rf "$dest"; mv "$dest.tmp" "$dest"
  chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"
  echo "build-servers: built $name $version in $(( $(date +%s) - started )) s -> $dest" >&2
  exec {lockfd}>&-
}

failed=0
while IFS=$'\t' read -r name version kind modver pkgs tags; do
  case "$name" in ''|'#'*) continue ;; esac
  selected "$name" "$version" || continue
  build_one "$name" "$version" "$kind" "$modver" "$pkgs" "$tags" || failed=1
done < "$table"
exit $failed
