#!/usr/bin/env bash
# fts5.sh: whole-process 'reciprocal search' against sqlite3 with FTS5 over
# the same items and the same query, run in turn, with the median of each.
# Whole processes, as a user runs them: start-up is part of the figure.
#
#   go build -o /tmp/reciprocal ./cmd/reciprocal
#   RECIPROCAL=/tmp/reciprocal .ci/fts5.sh DATA_DIR 'session ticket' [RUNS]
#
# It builds an FTS5 table (porter stemming, as the index stems English)
# from 'reciprocal export': one row per issue, change,
# vulnerability and comment, with its title and text. Bleve's query string
# "a b" means a OR b, ranked; so the FTS5 query is the words joined by OR,
# ranked by bm25, 20 rows with a snippet, as 'reciprocal search' prints 20
# hits with a snippet. Needs sqlite3 with FTS5 and the JSON functions.
# A benchmark, not part of CI: 'go test' never needs sqlite3.
set -euo pipefail
data=${1:?usage: fts5.sh DATA_DIR QUERY [RUNS]}
query=${2:?usage: fts5.sh DATA_DIR QUERY [RUNS]}
runs=${3:-11}
rec=${RECIPROCAL:-reciprocal}
command -v sqlite3 >/dev/null || { echo "fts5.sh: sqlite3 is not installed" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=$work/fts5.db
"$rec" --data "$data" export 2>/dev/null | tr '\n' '\036' >"$work/export.txt"
sqlite3 "$db" <<SQL
CREATE TABLE raw(j TEXT);
.mode ascii
.import $work/export.txt raw
CREATE VIRTUAL TABLE items USING fts5(id UNINDEXED, title, body, tokenize = 'porter unicode61');
INSERT INTO items
SELECT coalesce(json_extract(j, '$.html_url'), json_extract(j, '$.id')),
       coalesce(json_extract(j, '$.title'), json_extract(j, '$.subject'), json_extract(j, '$.summary'), ''),
       coalesce(json_extract(j, '$.body'), json_extract(j, '$.details'),
                json_extract(j, '$.revisions."' || json_extract(j, '$.current_revision') || '".commit.message'), '')
FROM raw;
DROP TABLE raw;
VACUUM;
SQL
rows=$(sqlite3 "$db" 'SELECT count(*) FROM items')
fts=$(printf '%s' "$query" | sed 's/"/""/g; s/[[:space:]]\{1,\}/" OR "/g; s/^/"/; s/$/"/')
sql="SELECT id, title, snippet(items, 2, '«', '»', ' … ', 24) FROM items WHERE items MATCH '$fts' ORDER BY rank LIMIT 20;"

# us CMD...: runs CMD once, printing its wall time in microseconds.
us() {
	local t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	echo $((($(date +%s%N) - t0) / 1000))
}
median() { sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'; }

# One warm-up each, then the two in turn, run after run, so that both see
# the same machine.
us "$rec" --data "$data" search "$query" >/dev/null
us sqlite3 "$db" "$sql" >/dev/null
: >"$work/a"
: >"$work/b"
for ((i = 0; i < runs; i++)); do
	us "$rec" --data "$data" search "$query" >>"$work/a"
	us sqlite3 "$db" "$sql" >>"$work/b"
done
r=$(median <"$work/a")
s=$(median <"$work/b")
echo "items in the FTS5 table: $rows (issues, changes, vulnerabilities and comments)"
echo "query: $query  (FTS5: $fts)"
echo "reciprocal search: median $r ms over $runs runs"
echo "sqlite3 FTS5:      median $s ms over $runs runs"
awk -v r="$r" -v s="$s" 'BEGIN {printf "ratio of the medians: %.2f\n", r/s}'
