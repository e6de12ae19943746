#!/bin/sh
# Fuzz rolecli's text path for a while: fuzz/run.sh [SECONDS] [extra libFuzzer flags...]
#   SECONDS defaults to 300. The growing corpus and any crash-* files go to $FUZZ_WORK
#   (default: a rolecli-fuzz folder in $TMPDIR or /tmp), never into the repository.
#   Seeds: fuzz/seeds (small inputs we wrote) and examples/ (our own postings).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
seconds=${1:-300}
[ $# -gt 0 ] && shift
work=${FUZZ_WORK:-${TMPDIR:-/tmp}/rolecli-fuzz}
mkdir -p "$work/corpus" "$work/crashes"
python=${PYTHON:-python3}
"$python" -c "import atheris" 2>/dev/null || {
    echo "fuzz/run.sh: atheris is missing; pip install -e '.[dev]' (or pip install atheris)" >&2
    exit 2
}
echo "fuzzing for ${seconds}s; corpus $work/corpus, crashes $work/crashes" >&2
# -timeout: an input that takes 10 s is a finding (quadratic behaviour), not patience.
# -rss_limit_mb: an input that blows memory up is a finding too.
exec "$python" "$here/fuzz_scoring.py" "$work/corpus" "$here/seeds" "$root/examples" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -artifact_prefix="$work/crashes/" -print_final_stats=1 "$@"
