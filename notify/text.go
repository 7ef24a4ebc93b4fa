package notify

import (
	"fmt"
	"strconv"
	"strings"
)

// textWidth is the width the plain text part wraps long prose at.
const textWidth = 72

// renderText renders the plain text part: readable in a terminal mail
// client, every line of tracker text already stripped of control
// characters by newView.
func renderText(v *view) string {
	var b strings.Builder
	b.Grow(1024 + 600*len(v.Clients) + 400*len(v.Vulns) + 200*len(v.Stages))
	line := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
		b.WriteByte('\n')
	}
	heading := func(title string) {
		line()
		line(title)
		line(strings.Repeat("=", len(title)))
		line()
	}

	if v.Empty {
		line("Nothing needs you today.")
	} else {
		line(v.Heading)
		if v.Summary != "" {
			line()
			line(wrap(v.Summary, textWidth, ""))
		}
	}
	if v.History != "" {
		line()
		line(wrap(v.History, textWidth, ""))
	}

	if len(v.Requests) > 0 {
		heading("SLA REQUESTS OPEN")
		for i, r := range v.Requests {
			if i > 0 {
				line()
			}
			line(r.ID, "  ", r.Client, " about ", r.Vuln, ": ", r.Summary)
			if r.Overdue {
				line("  OVERDUE by ", r.Left, " (answer was due ", r.Deadline, "; asked ", r.Asked, ")")
			} else {
				line("  answer by ", r.Deadline, ", ", r.Left, " left (asked ", r.Asked, ")")
			}
			if r.Note != "" {
				line("  they asked: ", wrap(r.Note, textWidth-14, "              "))
			}
			line("  close it:   reciprocal sla answer ", r.ID, " --note ...")
		}
	}

	if len(v.Vulns) > 0 {
		heading("VULNERABILITIES IN THEIR SLA WINDOW")
		for i, a := range v.Vulns {
			if i > 0 {
				line()
			}
			line(a.ID, ": ", a.Summary)
			meta := "published " + a.Published
			if a.Aliases != "" {
				meta += " · " + a.Aliases
			}
			if a.Packages != "" {
				meta += " · " + a.Packages
			}
			line("  ", meta)
			if a.URL != "" {
				line("  ", a.URL)
			}
			for _, c := range a.Clients {
				who := c.Client
				if c.Tier != "" {
					who += " (" + c.Tier + ")"
				}
				switch {
				case c.NoDeadline:
					line("  * ", who)
				case c.Overdue:
					line("  * ", who, ": window closed ", c.Deadline)
				default:
					line("  * ", who, ": may ask until ", c.Deadline, ", ", c.Left, " left")
				}
				if c.Concern != "" {
					line("      concern: ", wrap(c.Concern, textWidth-15, "               "))
				}
			}
		}
	}

	if len(v.Clients) > 0 {
		heading("CONSULT PROMPTS")
		for i, c := range v.Clients {
			if i > 0 {
				line()
			}
			head := c.Client
			if c.Tier != "" {
				head += " (" + c.Tier + ")"
			}
			head += " · " + c.Count
			line(head)
			line(strings.Repeat("-", min(textWidth, len([]rune(head)))))
			if c.Contacts != "" {
				line("ask: ", c.Contacts)
			}
			for _, p := range c.Prompts {
				const pad = "     "
				line()
				num := strconv.Itoa(p.N) + ". "
				title := p.Title
				if p.High {
					title += "  [high priority]"
				} else if p.Low {
					title += "  [low priority]"
				}
				line(strings.Repeat(" ", max(0, 5-len(num))), num, title)
				meta := strings.TrimSpace(p.Kind + " " + p.ItemID)
				if p.Status != "" {
					meta += ", " + p.Status
				}
				if meta != "" {
					line(pad, meta)
				}
				if p.URL != "" {
					line(pad, p.URL)
				}
				if p.Trigger != "" {
					line(pad, "why now:   ", p.Trigger)
				}
				if p.Concern != "" {
					line(pad, "concern:   ", wrap(p.Concern, textWidth-16, pad+"           "))
				}
				if p.HasTold {
					told := `"` + p.Told + `"`
					if p.ToldMeta != "" {
						told += " (" + p.ToldMeta + ")"
					}
					line(pad, "they said: ", wrap(told, textWidth-16, pad+"           "))
				}
				if p.Packages != "" || p.Terms != "" {
					m := p.Packages
					if p.Terms != "" {
						if m != "" {
							m += "; "
						}
						m += "terms " + p.Terms
					}
					line(pad, "matched:   ", m)
				}
				if p.SnippetText != "" {
					line(pad, "           ", wrap(p.SnippetText, textWidth-16, pad+"           "))
				}
				for i, m := range p.Members {
					label := "           "
					if i == 0 {
						label = fmt.Sprintf("%-11s", "topic:")
					}
					d := m.Kind + " " + m.ItemID
					if m.Status != "" {
						d += ", " + m.Status
					}
					d += ": " + m.Title
					if m.Why != "" {
						d += " (" + m.Why + ")"
					}
					line(pad, label, wrap(d, textWidth-16, pad+"             "))
				}
				if p.Close != "" {
					line(pad, "close:     ", p.Close)
				}
			}
		}
	}

	if len(v.Stages) > 0 {
		heading("PROPOSALS CHANGING STAGE")
		for i, s := range v.Stages {
			if i > 0 {
				line()
			}
			line(s.ItemID, ": ", s.Title)
			meta := s.From + " → " + s.To + ", " + s.At
			if s.Clients != "" {
				meta += " · watched by " + s.Clients
			}
			line("  ", meta)
			if s.Packages != "" {
				line("  ", s.Packages)
			}
			if s.URL != "" {
				line("  ", s.URL)
			}
		}
	}

	if len(v.Held) > 0 {
		heading("PROBABLY NOT RELEVANT (held back)")
		for _, h := range v.Held {
			line("* ", h.ItemID, ": ", wrap(h.Title, textWidth-4-len(h.ItemID), "    "))
			line("    ", h.Client, " / ", h.Concern, ": ", wrap(h.Reason, textWidth-8-len(h.Client)-len(h.Concern), "    "))
			line("    reciprocal queue reopen ", h.ID)
		}
		if v.HeldMore > 0 {
			line(fmt.Sprintf("(%d more: reciprocal queue --held)", v.HeldMore))
		}
	}

	if len(v.Digests) > 0 {
		heading("DIGESTS DUE")
		for _, d := range v.Digests {
			line("* ", d.Client, ": the ", d.Period, " digest (", d.Command, ")")
		}
	}

	line()
	line("-- ")
	if v.SyncOK != "" {
		line("Sync: ", v.SyncOK)
	}
	for _, h := range v.Health {
		line("Sync: ", h.Source, ": ", h.Status)
		if h.Error != "" {
			line("      ", wrap(h.Error, textWidth-6, "      "))
		}
	}
	return b.String()
}
