#!/usr/bin/env bash
# Regenerates the committed sample set of a reference stack, the way a team makes theirs from
# production: bring the stack up, build a production-shaped source database (here synthetic,
# from synthetic/<stack>.sql, since no production data may leave CERN), and capture a
# sanitized, FK-closed subset of it with `devenv sample capture`.
#
#   sample-data/capture.sh rucio-opint            # rewrites sample-data/rucio-opint
#   sample-data/capture.sh rucio-opint /tmp/out   # writes elsewhere (the tests compare)
#   sample-data/capture.sh dials-ecal             # DIALS' ecal workspace (dials is tracker's)
#
# The pseudonym key is DEVENV_SAMPLE_KEY; the committed sets use the published
# "devenv-reference-samples" because their source is synthetic. A real capture keeps its key
# secret. Runs against the engine as a disposable project; removes it on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
stack=${1:?usage: capture.sh STACK [OUT]}
out=${2:-$here/$stack}
devenv=${DEVENV:-$root/.build/debug/devenv}
export DEVENV_SAMPLE_KEY=${DEVENV_SAMPLE_KEY:-devenv-reference-samples}

# Per stack: the app service that migrates, the database the set is for, the source
# database's settings for the app, and the subset.
migrate_env=()
directory=$stack policy=$stack synthetic=$here/synthetic/$stack.sql variables=()
case $stack in
  rucio-opint)
    service=backend database=opint source=opint_production
    subset=(--subset 'api_issue:id <= 900' --subset 'api_solution:id <= 120' --limit api_fetchedfeed:48) ;;
  certhelper)
    service=web database=certhelperdb source=certhelper_production
    subset=(--subset 'certifier_trackercertification:id <= 400') ;;
  mlplayground)
    service=web database=mlplayground source=mlplayground_production
    subset=(--subset 'histograms_lumisection:run_number IN (381500, 381501)') ;;
  dials)
    # The tracker workspace's database; Django's own tables live in the default one.
    service=backend database=dials_tracker source=dials_production_tracker
    migrate_env=(--env DJANGO_WORKSPACES=tracker --env DJANGO_DATABASE_NAME=dials_production)
    variables=(-v base=382000 -v dataset=/JetMET0/Run2024F-PromptReco-v1/DQMIO -v scan=Pixel -v "noise=Strip noise in TEC+")
    subset=(--subset 'tables_run:run_number BETWEEN 382000 AND 382040') ;;
  dials-csc|dials-ecal|dials-hcal|dials-jetmet)
    # Another workspace's database: the same recipe with the workspace's own values.
    workspace=${stack#dials-} directory=dials policy=dials
    for entry in csc:383000 ecal:384000 hcal:385000 jetmet:386000; do
      [ "${entry%:*}" = "$workspace" ] && base=${entry#*:}
    done
    service=backend database=dials_$workspace source=dials_production_$workspace
    migrate_env=(--env DJANGO_WORKSPACES=$workspace --env DJANGO_DATABASE_NAME=dials_production)
    name=$(echo "$workspace" | tr '[:lower:]' '[:upper:]')
    synthetic=$here/synthetic/dials.sql
    variables=(-v base="$base" -v "dataset=/${name:0:1}${workspace:1}/Run2024F-PromptReco-v1/DQMIO" -v "scan=$name" -v "noise=$name noise")
    subset=(--subset "tables_run:run_number BETWEEN $base AND $((base + 40))") ;;
  *) echo "capture.sh: no recipe for '$stack' (rucio-opint, certhelper, mlplayground, dials, dials-csc, dials-ecal, dials-hcal, dials-jetmet)" >&2; exit 2 ;;
esac
file=$root/compose/$directory/compose.yaml
project=samples-$directory-$$
run() { "$devenv" "$1" -f "$file" -p "$project" "${@:2}"; }
trap 'run down --volumes --timeout 2 >/dev/null 2>&1 || true' EXIT

echo "capture: bringing up compose/$directory as $project (no seed)" >&2
run up --no-seed --ephemeral --ttl 30m >/dev/null 2>&1 || { run up --no-seed 2>&1 | tail -20 >&2; exit 1; }
role=$(run env --format json --show-secrets | python3 -c 'import json,sys; print(json.load(sys.stdin)["DJANGO_DATABASE_USER"])')

echo "capture: creating $source (schema by the app's migrations, rows from synthetic/$stack.sql)" >&2
admin=(exec -T db -- psql -U postgres -v ON_ERROR_STOP=1 -q)
if [ "$directory" = dials ]; then
  run "${admin[@]}" -c "CREATE DATABASE dials_production OWNER $role" -c "CREATE DATABASE $source OWNER $role"
  run exec "${migrate_env[@]}" "$service" -- python3 manage.py migrate --noinput --database "${workspace:-tracker}" -v0
  run "${admin[@]}" -o /dev/null -d "$source" "${variables[@]}" <"$synthetic"
else
  run "${admin[@]}" -c "CREATE DATABASE $source OWNER $role"
  run exec --env DJANGO_DATABASE_NAME="$source" "$service" -- python3 manage.py migrate --noinput -v0
  cat "$here/synthetic/users.sql" "$synthetic" | run "${admin[@]}" -o /dev/null -d "$source"
fi

url=$(run env --format json --show-secrets | python3 -c 'import json,sys; print(json.load(sys.stdin)["DATABASE_URL"])')
echo "capture: sanitizing into $out" >&2
rm -rf "$out"
"$devenv" sample capture --from "${url%/*}/$source" --out "$out" --name "$stack" --database "$database" \
  --preset django --policy "$here/policies/$policy.yaml" "${subset[@]}"
# The committed set, audited against the same source: no original value left in it (when $out
# is elsewhere, this is what the tests compare the fresh capture with).
"$devenv" sample audit "$here/$stack" --from "${url%/*}/$source" --preset django --policy "$here/policies/$policy.yaml"
