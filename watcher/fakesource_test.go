package watcher_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// This file adds a source the way a new source package would: a
// descriptor with its own configuration section, a Source that syncs from
// a server, a normalizer and a shape for JSON Lines. Nothing else in
// reciprocal is edited for it; TestFakeSourceEndToEnd runs it through
// configuration, sync, the store, the index, and export and import.

// ticket is the tracker's raw object.
type ticket struct {
	Ticket  int       `json:"ticket"`
	Project string    `json:"project"`
	Title   string    `json:"title"`
	Body    string    `json:"body"`
	Updated time.Time `json:"updated"`
}

// ticketsConfig is one [[tickets]] entry of the configuration.
type ticketsConfig struct {
	URL     string `toml:"url"`
	Project string `toml:"project"`
}

// ticketsSection is the [[tickets]] section.
var ticketsSection = &configs.Entries[ticketsConfig]{
	Key: "tickets",
	Default: func(c *ticketsConfig) {
		if c.Project == "" {
			c.Project = "widgets"
		}
	},
	Check: func(c ticketsConfig, bad configs.Bad) {
		if !strings.HasPrefix(c.URL, "http") {
			bad([]string{"url"}, "tickets url %q: want an http URL", c.URL)
		}
	},
}

var ticketsDescriptor = &source.Descriptor{
	Kind:    "tickets",
	Section: "[[tickets]]",
	Objects: "a ticket",
	Config:  ticketsSection.Section(),
	Build: func(cfg *configs.Config, opts source.BuildOptions) ([]source.Source, error) {
		return source.BuildEach(ticketsSection.Of(cfg), func(c ticketsConfig) (*ticketSource, error) {
			return &ticketSource{cfg: c, client: opts.Client("tickets")}, nil
		})
	},
	Normalize: func(rec source.Record, _ source.Env) (index.Item, error) { return normalizeTicket(rec.Raw) },
	Shapes: []source.Shape{{
		Name:   "ticket",
		Detect: func(m source.Members) bool { return m.Has("ticket", "project") },
		Parse: func(raw []byte, _ source.Env) (source.Object, error) {
			it, err := normalizeTicket(raw)
			return source.Object{ID: it.ID}, err
		},
	}},
}

func normalizeTicket(raw []byte) (index.Item, error) {
	var t ticket
	if err := json.Unmarshal(raw, &t); err != nil {
		return index.Item{}, err
	}
	if t.Ticket <= 0 || t.Project == "" {
		return index.Item{}, fmt.Errorf("tickets: ticket has no number or project")
	}
	return index.Item{
		ID: fmt.Sprintf("tickets:%s/%d", t.Project, t.Ticket), Source: "tickets", Repo: t.Project, Number: t.Ticket,
		Kind: index.KindIssue, State: index.StateOpen, Title: t.Title, Body: t.Body, Created: t.Updated, Updated: t.Updated,
	}, nil
}

// ticketSource syncs a project's tickets updated since its cursor.
type ticketSource struct {
	cfg    ticketsConfig
	client *http.Client
}

func (s *ticketSource) Name() string { return "tickets " + s.cfg.Project }

func (s *ticketSource) Sync(ctx context.Context, st *store.Store, opts source.Options) (source.Stats, error) {
	opts, stats := source.Begin(s.Name(), opts)
	start := opts.Now()
	err := s.sync(ctx, st, &stats)
	source.Finish(&stats, opts, start, err)
	return stats, err
}

func (s *ticketSource) sync(ctx context.Context, st *store.Store, stats *source.Stats) error {
	cursorName := "tickets:" + s.cfg.Project
	var since time.Time
	if _, err := source.LoadCursor(st, cursorName, &since); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "GET", s.cfg.URL+"/tickets?since="+since.Format(time.RFC3339), nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	stats.Requests++
	var raws []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raws); err != nil {
		return fmt.Errorf("tickets: %w", err)
	}
	var counts source.Counts
	err = st.Update(func(tx *store.Tx) error {
		for _, raw := range raws {
			it, err := normalizeTicket(raw)
			if err != nil {
				return err
			}
			ch, err := tx.PutItem(it.ID, "tickets", raw)
			if err != nil {
				return err
			}
			counts.Add(ch)
			if it.Updated.After(since) {
				since = it.Updated
			}
		}
		v, _ := json.Marshal(since)
		return tx.SetCursor(cursorName, v)
	})
	if err == nil {
		stats.AddItems(counts)
	}
	return err
}

// ticketServer serves tickets updated after ?since=.
func ticketServer(t *testing.T, tickets ...ticket) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		since, err := time.Parse(time.RFC3339, r.URL.Query().Get("since"))
		if r.URL.Path != "/tickets" || err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		out := []ticket{}
		for _, tk := range tickets {
			if tk.Updated.After(since) {
				out = append(out, tk)
			}
		}
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

var registerTickets sync.Once

func TestFakeSourceEndToEnd(t *testing.T) {
	// The one line a new source adds to watcher.Sources.
	reg := append(slices.Clone(watcher.Sources), ticketsDescriptor)
	registerTickets.Do(func() { watcher.RegisterConfig(ticketsDescriptor) })

	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	srv := ticketServer(t,
		ticket{Ticket: 7, Project: "widgets", Title: "crypto/tls: widget handshake stalls", Body: "the session ticket is never sent", Updated: t0},
		ticket{Ticket: 8, Project: "widgets", Title: "net/http: widget proxy drops headers", Updated: t0.Add(time.Hour)},
	)

	// Configure: the section is read, defaulted and checked by configs.
	cfg, err := configs.Parse("reciprocal.toml", []byte(fmt.Sprintf("[[tickets]]\nurl = %q\n", srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = configs.Parse("bad.toml", []byte("[[tickets]]\nurl = \"ftp://x\"\nprojet = \"w\"\n"))
	if err == nil || !strings.Contains(err.Error(), `bad.toml:3: unknown key "tickets.projet" (did you mean "project"?)`) {
		t.Errorf("misspelled key: %v", err)
	}
	_, err = configs.Parse("bad.toml", []byte("[[tickets]]\nurl = \"ftp://x\"\n"))
	if err == nil || !strings.Contains(err.Error(), `bad.toml:2: tickets url "ftp://x": want an http URL`) {
		t.Errorf("bad url: %v", err)
	}
	srcs, err := reg.Build(cfg, "tickets", source.BuildOptions{Clients: map[string]*http.Client{"tickets": srv.Client()}})
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 1 || srcs[0].Name() != "tickets widgets" {
		t.Fatalf("built %v, want the widgets project with its default", srcs)
	}

	// Sync into the store, normalize and index.
	d, err := watcher.OpenData(t.TempDir(), false, &watcher.Normalizer{Sources: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res, err := d.SyncAll(ctx, srcs, source.Options{Now: func() time.Time { return t0.Add(2 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].New != 2 || res[0].Requests != 1 || res[0].Estimate != 1 || res[0].Duration != 0 {
		t.Errorf("sync stats %+v", res[0].Stats)
	}
	if res, _ = d.SyncAll(ctx, srcs, source.Options{}); res[0].New+res[0].Updated+res[0].Unchanged != 0 {
		t.Errorf("second sync from the cursor: %+v", res[0].Stats)
	}
	if ids := search(t, d, index.Request{Query: "session ticket"}); !slices.Equal(ids, []string{"tickets:widgets/7"}) {
		t.Errorf("search: %v", ids)
	}
	it, _, err := d.Item("tickets:widgets/8")
	if err != nil || it.Source != "tickets" || it.Title != "net/http: widget proxy drops headers" {
		t.Errorf("item: %+v, %v", it, err)
	}

	// Export and import: the tickets come back byte for byte, their shape
	// detected among every source's.
	var exported bytes.Buffer
	if n, err := d.Export(ctx, &exported, "tickets"); n != 2 || err != nil {
		t.Fatalf("export: %d, %v", n, err)
	}
	d2, err := watcher.OpenData(t.TempDir(), false, &watcher.Normalizer{Sources: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	ires, err := d2.Import(ctx, "tickets.jsonl", bytes.NewReader(exported.Bytes()), watcher.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := ires.Counts["ticket"]; c == nil || c.New != 2 {
		t.Errorf("import counts %v", ires.Counts)
	}
	var again bytes.Buffer
	if _, err := d2.Export(ctx, &again, ""); err != nil || !bytes.Equal(again.Bytes(), exported.Bytes()) {
		t.Errorf("export → import → export differs (%v):\n%s\n---\n%s", err, exported.Bytes(), again.Bytes())
	}
	if _, err := d2.IndexPending(ctx); err != nil {
		t.Fatal(err)
	}
	if ids := search(t, d2, index.Request{Query: "proxy"}); !slices.Equal(ids, []string{"tickets:widgets/8"}) {
		t.Errorf("search after import: %v", ids)
	}

	// Without the descriptor, the store's tickets are an unknown source.
	if _, err := (&watcher.Normalizer{}).Item(nil, store.Record{ID: "tickets:widgets/7", Source: "tickets"}); err == nil || !strings.Contains(err.Error(), `unknown source "tickets"`) {
		t.Errorf("normalizing without the descriptor: %v", err)
	}
}
