package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/internal/scalecorpus"
)

// BenchmarkScale measures reciprocal as a user meets it on years of history:
// the real corpus multiplied under new IDs (package scalecorpus: Go's mix,
// about ten comments per issue, so 300k items are about a million stored
// objects), with every command run as a whole process of the built binary.
// It is skipped unless RECIPROCAL_SCALE names the sizes, in items:
//
//	RECIPROCAL_SCALE=20k,300k nice go test ./cmd/reciprocal -run '^$' -bench Scale -benchtime 1x -timeout 3h
//
// "1m" stands for one million stored objects (294k items). It reports, per
// size: import and reindex items/s (wall and CPU) and peak RSS; store and
// index bytes per item; status time; search p50/p99 as a whole process and
// in process; whole-index match time and peak RSS; compact. Generated data
// goes to the system's temporary directory and is removed after, unless
// RECIPROCAL_SCALE_KEEP names a directory to keep each size's corpus and
// data directory in (for looking at them after: search, .ci/fts5.sh).
func BenchmarkScale(b *testing.B) {
	spec := os.Getenv("RECIPROCAL_SCALE")
	if spec == "" {
		b.Skip("set RECIPROCAL_SCALE (for example 20k,300k) to run the scale benchmarks")
	}
	corpusDir := filepath.Join("..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(corpusDir, "issues.jsonl.gz")); err != nil {
		b.Skip("../shared/corpus is absent")
	}
	corpus, err := scalecorpus.Load(corpusDir)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(timeCmd); err != nil {
		b.Skipf("the scale benchmarks measure peak RSS with %s, which is absent", timeCmd)
	}
	bin := filepath.Join(b.TempDir(), "reciprocal")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	for _, size := range strings.Split(spec, ",") {
		items, err := parseScale(size)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(size, func(b *testing.B) { benchScale(b, bin, corpus, items) })
	}
}

// parseScale reads "300k", "20000" or "1m" (a million objects).
func parseScale(s string) (int, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "1m" {
		return int(math.Round(1e6 / (1 + scalecorpus.IssueShare*scalecorpus.MeanComments))), nil
	}
	mult := 1
	if strings.HasSuffix(s, "k") {
		mult, s = 1000, strings.TrimSuffix(s, "k")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("RECIPROCAL_SCALE: bad size %q: want N, Nk or 1m", s)
	}
	return n * mult, nil
}

// A procRun is one finished process.
type procRun struct {
	wall, cpu time.Duration
	peakMB    float64
	out       []byte
}

func (r procRun) String() string {
	return fmt.Sprintf("%.2fs wall, %.2fs CPU, peak RSS %.0f MB", r.wall.Seconds(), r.cpu.Seconds(), r.peakMB)
}

// runBin runs the binary as a user would and measures it. Peak RSS comes
// from /usr/bin/time: a child started straight from this (large) test
// process would report the parent's high-water mark as its own.
func runBin(b *testing.B, env []string, bin string, args ...string) procRun {
	b.Helper()
	cmd := exec.Command(timeCmd, append([]string{"-f", "\n" + timeTag + " %M %U %S", bin}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, stderr bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	r := procRun{wall: time.Since(start), out: out.Bytes()}
	errText := stderr.String()
	i := strings.LastIndex(errText, "\n"+timeTag+" ")
	if i < 0 {
		b.Fatalf("%s %s: %v (no figures from %s)\n%s%s", bin, strings.Join(args, " "), err, timeCmd, out.Bytes(), errText)
	}
	var kb, user, sys float64
	fmt.Sscanf(errText[i+len(timeTag)+2:], "%f %f %f", &kb, &user, &sys)
	if err != nil {
		b.Fatalf("%s %s: %v\n%s%s", bin, strings.Join(args, " "), err, out.Bytes(), errText[:i])
	}
	r.peakMB = kb / 1024
	r.cpu = time.Duration((user + sys) * float64(time.Second))
	return r
}

const (
	timeCmd = "/usr/bin/time"
	timeTag = "reciprocal-scale-figures:"
)

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1)+0.5)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// scaleQueries are searches a maintainer types.
var scaleQueries = []string{"session ticket", "crypto/tls", "HTTP/2 proxy", "go.work vendor", "ML-KEM", "race detector flaky"}

// scaleProfile is a client with concerns over busy and quiet areas.
const scaleProfile = `id = "scale"
name = "Scale Co"
tier = "gold"

[[concern]]
id = "tls"
summary = "TLS session resumption"
told = 2024-01-10
packages = ["crypto/tls"]

[[concern]]
id = "tickets"
summary = "Session tickets"
told = 2024-01-10
query = "session ticket"

[[concern]]
id = "ssh"
summary = "The SSH server"
told = 2024-01-10
packages = ["golang.org/x/crypto/ssh"]

[[concern]]
id = "gocmd"
summary = "Workspaces and vendoring"
told = 2024-01-10
packages = ["cmd/go"]
query = "vendor workspace"
`

func benchScale(b *testing.B, bin string, corpus *scalecorpus.Corpus, items int) {
	tmp := b.TempDir()
	if keep := os.Getenv("RECIPROCAL_SCALE_KEEP"); keep != "" {
		tmp = filepath.Join(keep, strconv.Itoa(items))
		if err := os.RemoveAll(tmp); err != nil {
			b.Fatal(err)
		}
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	file := filepath.Join(tmp, "corpus.jsonl.gz")
	st, err := corpus.WriteFile(file, scalecorpus.Options{Items: items})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("corpus: %d items (%d issues, %d changes, %d vulnerabilities), %d comments: %d objects, %.0f MB of JSON",
		st.Items(), st.Issues, st.Changes, st.Vulns, st.Comments, st.Objects(), float64(st.Bytes)/1e6)
	data := filepath.Join(tmp, "data")
	clients := filepath.Join(tmp, "clients")
	os.MkdirAll(clients, 0o755)
	os.WriteFile(filepath.Join(clients, "scale.toml"), []byte(scaleProfile), 0o644)
	config := filepath.Join(tmp, "reciprocal.toml")
	os.WriteFile(config, []byte(fmt.Sprintf("clients = %q\n\n[matching]\nlookback = \"14d\"\n", clients)), 0o644)
	env := []string{"RECIPROCAL_DATA=" + data, "RECIPROCAL_CONFIG=" + config, "RECIPROCAL_LOG=warn"}
	report := func(v float64, unit string) { b.ReportMetric(v, unit) }

	imp := runBin(b, env, bin, "import", file)
	b.Logf("import: %v", imp)
	report(float64(st.Items())/imp.wall.Seconds(), "import-items/s")
	report(float64(st.Items())/imp.cpu.Seconds(), "import-items/cpu-s")
	report(imp.peakMB, "import-peak-MB")

	storeBytes := fileSize(filepath.Join(data, "store.db"))
	indexBytes := index.DiskSize(filepath.Join(data, index.DirName))
	report(float64(storeBytes)/float64(st.Items()), "store-B/item")
	report(float64(indexBytes)/float64(st.Items()), "index-B/item")
	b.Logf("store %.0f MB, index %.0f MB", float64(storeBytes)/1e6, float64(indexBytes)/1e6)

	var statusTimes []time.Duration
	var statusPeak float64
	for range 5 {
		r := runBin(b, env, bin, "status", "--json")
		statusTimes = append(statusTimes, r.wall)
		statusPeak = max(statusPeak, r.peakMB)
	}
	report(ms(percentile(statusTimes, 0.5)), "status-ms")
	report(statusPeak, "status-peak-MB")

	var searchTimes []time.Duration
	var searchPeak float64
	for range 5 {
		for _, q := range scaleQueries {
			r := runBin(b, env, bin, "search", q)
			searchTimes = append(searchTimes, r.wall)
			searchPeak = max(searchPeak, r.peakMB)
		}
	}
	report(ms(percentile(searchTimes, 0.5)), "search-process-p50-ms")
	report(ms(percentile(searchTimes, 0.99)), "search-process-p99-ms")
	report(searchPeak, "search-peak-MB")

	ix, err := index.Open(filepath.Join(data, index.DirName), true)
	if err != nil {
		b.Fatal(err)
	}
	var inproc []time.Duration
	for range 20 {
		for _, q := range scaleQueries {
			start := time.Now()
			if _, err := ix.Search(context.Background(), index.Request{Query: q, Highlight: true}); err != nil {
				b.Fatal(err)
			}
			inproc = append(inproc, time.Since(start))
		}
	}
	ix.Close()
	report(ms(percentile(inproc, 0.5)), "search-p50-ms")
	report(ms(percentile(inproc, 0.99)), "search-p99-ms")

	m := runBin(b, env, bin, "match")
	b.Logf("match over the whole index: %v", m)
	report(m.wall.Seconds(), "match-s")
	report(m.peakMB, "match-peak-MB")

	re := runBin(b, env, bin, "reindex")
	b.Logf("reindex: %v", re)
	report(float64(st.Items())/re.wall.Seconds(), "reindex-items/s")
	report(float64(st.Items())/re.cpu.Seconds(), "reindex-items/cpu-s")
	report(re.peakMB, "reindex-peak-MB")

	c := runBin(b, env, bin, "compact")
	b.Logf("compact: %v\n%s", c, c.out)
	report(c.peakMB, "compact-peak-MB")

	benchScaleSync(b, bin, file, tmp, clients, st.Items())
}

// benchScaleSync measures a first sync of the whole corpus from the fake
// trackers into an empty data directory: every request, every store write
// and the indexing after. The fakes run in a process of their own (see
// scaleFakes), on this machine, so the figure is reciprocal's work, not
// the network's or the rate limits'.
func benchScaleSync(b *testing.B, bin, file, tmp, clients string, items int) {
	fakes := exec.Command(scaleFakesCmd, file)
	stdin, err := fakes.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := fakes.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	fakes.Stderr = os.Stderr
	if err := fakes.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		stdin.Close() // the fakes serve until their input closes
		fakes.Wait()
	}()
	sources, err := io.ReadAll(stdout)
	if err != nil || len(sources) == 0 {
		b.Fatalf("%s: %v (no configuration)", scaleFakesCmd, err)
	}
	config := filepath.Join(tmp, "sync.toml")
	os.WriteFile(config, []byte(fmt.Sprintf("clients = %q\n\n%s\n[matching]\nlookback = \"14d\"\n", clients, sources)), 0o644)
	env := []string{"RECIPROCAL_DATA=" + filepath.Join(tmp, "syncdata"), "RECIPROCAL_CONFIG=" + config, "RECIPROCAL_LOG=warn"}
	s := runBin(b, env, bin, "sync")
	b.Logf("first sync from the fakes: %v\n%s", s, s.out)
	b.ReportMetric(float64(items)/s.wall.Seconds(), "sync-items/s")
	b.ReportMetric(float64(items)/s.cpu.Seconds(), "sync-items/cpu-s")
	b.ReportMetric(s.peakMB, "sync-peak-MB")
}

func fileSize(name string) int64 {
	fi, err := os.Stat(name)
	if err != nil {
		return 0
	}
	return fi.Size()
}
