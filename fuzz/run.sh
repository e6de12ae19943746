#!/bin/sh
# Fuzz rolecli for a while: fuzz/run.sh [HARNESS] [SECONDS] [extra libFuzzer flags...]
#   HARNESS: scoring (default; fuzz_scoring.py, the text path), tables (fuzz_tables.py,
#   the CSV/JSONL readers and --resume files), requests (fuzz_requests.py, the request
#   parsers of rolecli serve), sheets (fuzz_sheets.py, the page's CSV/.xlsx spreadsheets in
#   and out) or model (fuzz_model.py, card.json and scorer.bin loading).
#   SECONDS defaults to 300. The growing corpus and any crash-* files go to
#   $FUZZ_WORK/HARNESS (default: a rolecli-fuzz folder in $TMPDIR or /tmp), never into the
#   repository. Seeds: fuzz/seeds and examples/ (scoring), fuzz/seeds-tables (tables),
#   fuzz/seeds-requests (requests); the model harness writes its own into an empty corpus.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
harness=scoring
case "${1:-}" in scoring|tables|requests|sheets|model) harness=$1; shift ;; esac
seconds=${1:-300}
[ $# -gt 0 ] && shift
work=${FUZZ_WORK:-${TMPDIR:-/tmp}/rolecli-fuzz}/$harness
mkdir -p "$work/corpus" "$work/crashes"
python=${PYTHON:-python3}
"$python" -c "import atheris" 2>/dev/null || {
    echo "fuzz/run.sh: atheris is missing; pip install -e '.[dev]' (or pip install atheris)" >&2
    exit 2
}
if [ "$harness" = tables ]; then
    seeds="$here/seeds-tables"
elif [ "$harness" = requests ]; then
    seeds="$here/seeds-requests"
elif [ "$harness" = sheets ]; then
    seeds="$here/seeds-sheets"
elif [ "$harness" = model ]; then
    seeds=""
else
    seeds="$here/seeds $root/examples"
fi
echo "fuzzing $harness for ${seconds}s; corpus $work/corpus, crashes $work/crashes" >&2
# -timeout: an input that takes 10 s is a finding (quadratic behaviour), not patience.
# -rss_limit_mb: an input that blows memory up is a finding too.
# shellcheck disable=SC2086 # $seeds is a list of folders
exec "$python" "$here/fuzz_$harness.py" "$work/corpus" $seeds \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -artifact_prefix="$work/crashes/" -print_final_stats=1 "$@"
