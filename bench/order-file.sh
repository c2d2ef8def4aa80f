#!/usr/bin/env bash
# Regenerates bench/devenv.order, the link order of devenv's release build: every function
# devenv runs in a cold `up`, a no-op `up`, `status`, `env` and `down` of the ten-service
# stack, as valgrind's callgrind records them (mangled names, sorted). The linker (lld,
# --symbol-ordering-file) puts those functions first, together, so the pages the kernel maps
# around each first call are mostly code that runs, not its neighbours: peak RSS falls by
# about 5 MB (see BENCHMARKS.md). Names that no longer exist are ignored; new hot functions
# are laid out as before until this is rerun. Needs valgrind and a release build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
devenv=${DEVENV:-$here/../.build-static/release/devenv}
[ -x "$devenv" ] || { echo "order-file: build devenv first: make release" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "order-file: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Valgrind cannot read the DWARF of a static Swift binary; the symbol table is what counts.
cp "$devenv" "$work/devenv"
strip -g "$work/devenv"
export XDG_STATE_HOME=$work/state
stack=$here/stacks/ten/compose.yaml
project=bench-order
run() {
  valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/cg.$1.%p" \
    "$work/devenv" "$@" -f "$stack" -p "$project" >/dev/null 2>&1
}
"$work/devenv" down -v -f "$stack" -p "$project" >/dev/null 2>&1 || true
run up
run up
run status
run env
run down -v
python3 - "$work" >"$here/devenv.order" <<'PY'
import glob, re, sys
functions = set()
for path in glob.glob(sys.argv[1] + "/cg.*"):
    names, objects, current = {}, {}, None
    for line in open(path, errors="replace"):
        match = re.match(r"^(c?fn|c?ob)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
        if not match:
            continue
        kind, ident, name = match.groups()
        table = objects if kind.endswith("ob") else names
        if name:
            table[ident] = name
        if kind == "ob":
            current = objects.get(ident, "")
        elif kind == "fn" and current.endswith("/devenv") and names.get(ident):
            functions.add(names[ident])
print("\n".join(sorted(functions)))
PY
echo "order-file: $(wc -l <"$here/devenv.order") functions in $here/devenv.order"
