#!/bin/sh
# Fuzz rolecli for a while: fuzz/run.sh [SECONDS] [TARGET] [extra libFuzzer flags...]
#   SECONDS defaults to 300. TARGET is `scoring` (the text path, the default) or `model`
#   (card.json and scorer.bin loading). The growing corpus and any crash-* files go to
#   $FUZZ_WORK (default: a rolecli-fuzz-TARGET folder in $TMPDIR or /tmp), never into the
#   repository. Seeds: fuzz/seeds and examples/ (scoring); written by the harness (model).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
seconds=${1:-300}
[ $# -gt 0 ] && shift
target=scoring
case "${1:-}" in scoring|model) target=$1; shift ;; esac
work=${FUZZ_WORK:-${TMPDIR:-/tmp}/rolecli-fuzz-$target}
mkdir -p "$work/corpus" "$work/crashes"
python=${PYTHON:-python3}
"$python" -c "import atheris" 2>/dev/null || {
    echo "fuzz/run.sh: atheris is missing; pip install -e '.[dev]' (or pip install atheris)" >&2
    exit 2
}
echo "fuzzing for ${seconds}s; corpus $work/corpus, crashes $work/crashes" >&2
# -timeout: an input that takes 10 s is a finding (quadratic behaviour), not patience.
# -rss_limit_mb: an input that blows memory up is a finding too.
if [ "$target" = model ]; then
    set -- "$work/corpus" "$@"
else
    set -- "$work/corpus" "$here/seeds" "$root/examples" "$@"
fi
exec "$python" "$here/fuzz_$target.py" "$@" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -artifact_prefix="$work/crashes/" -print_final_stats=1
