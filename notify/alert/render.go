package alert

import (
	"bytes"
	"html/template"
	"strings"
	"sync"
	"time"

	"github.com/reciprocal-access/reciprocal/notify"
	"github.com/reciprocal-access/reciprocal/notify/sla"
)

// view is an alert as both parts show it.
type view struct {
	Facts
	FollowUp bool
	Why      string
	Clients  []ClientFacts
}

// whyOf says why a vulnerability qualifies, from its windows.
func whyOf(ws []sla.Window) string {
	why := ""
	for _, w := range ws {
		switch w.Why {
		case sla.WhyGo:
			return "in Go itself"
		case sla.WhyOwn:
			why = "in your own project"
		case sla.WhyConcern:
			if why == "" {
				why = "touches your clients' concerns"
			}
		}
	}
	return why
}

// compose renders the alert (or follow-up) about v as a message to the
// maintainer.
func (a *Alerter) compose(v *sla.Vuln, ws []sla.Window, rec Record, followUp bool, now time.Time) (*notify.Message, error) {
	loc := a.Location
	if loc == nil {
		loc = time.UTC
	}
	vw := &view{Facts: FactsOf(&v.Item, loc), FollowUp: followUp, Why: whyOf(ws), Clients: ClientsOf(ws, now, loc)}
	subject := "reciprocal: " + v.Item.ID + ": " + v.Item.Title
	name := "alert-" + v.Item.ID
	var inReplyTo string
	if followUp {
		subject = "reciprocal: " + v.Item.ID + " amended, affected or fixed versions changed: " + v.Item.Title
		inReplyTo = notify.MessageIDFor(name, a.From)
		name += ".amended"
	}
	var html bytes.Buffer
	if err := htmlTemplate().Execute(&html, vw); err != nil {
		return nil, err
	}
	return notify.ComposeMail(notify.Mail{
		From: a.From, To: a.To, Subject: subject, Name: name, Date: now.In(loc),
		InReplyTo: inReplyTo, Text: renderText(vw), HTML: html.String(), Auto: true,
	})
}

func renderText(v *view) string {
	var b strings.Builder
	line := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
		b.WriteByte('\n')
	}
	if v.FollowUp {
		line("AMENDED: the affected or fixed versions of ", v.ID, " changed since the first alert.")
		line()
	}
	line(v.ID, ": ", v.Summary)
	meta := "published " + v.Published
	if v.Aliases != "" {
		meta += " · " + v.Aliases
	}
	line(meta)
	if v.URL != "" {
		line(v.URL)
	}
	if v.Why != "" {
		line("It qualifies for the SLA: ", v.Why, ".")
	}
	line()
	line("Affected")
	for _, a := range v.Affected {
		what := a.Module
		if a.Packages != "" {
			what += " (" + a.Packages + ")"
		}
		line("  ", what, ": ", a.Versions)
		if a.Fixed != "" {
			line("    fixed in ", a.Fixed)
		}
	}
	if v.Upgrade != "" {
		line("Upgrade to: ", v.Upgrade)
	}
	if v.Details != "" {
		line()
		line(notify.Wrap(v.Details, 72, ""))
	}
	line()
	if len(v.Clients) == 0 {
		line("Clients: none covered.")
	}
	for _, c := range v.Clients {
		who := c.Name
		if c.Tier != "" {
			who += " (" + c.Tier + ")"
		}
		if c.Open {
			line("* ", who, ": may ask until ", c.Closes, ", ", c.Response, " response per request")
		} else {
			line("* ", who, ": their window closed ", c.Closes)
		}
		for _, t := range c.Touches {
			told := "On " + t.Told + " they told you: \"" + t.Summary + "\""
			if t.Via != "" {
				told += " (" + t.Via + ")"
			}
			line("    ", notify.Wrap("touches "+t.Concern+": "+told, 68, "      "))
		}
		if len(c.Touches) == 0 {
			line("    touches none of their concerns")
		}
		if c.Contacts != "" {
			line("    contacts: ", c.Contacts)
		}
	}
	line()
	line("Record a request: reciprocal sla ask CLIENT ", v.ID, " --note ...")
	line("Draft the notes:  reciprocal draft vuln ", v.ID)
	return b.String()
}

var htmlTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("alert").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.ID}}</title></head>
<body style="font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:15px;line-height:1.45;color:#1f2328;max-width:680px;margin:0 auto;padding:16px;">
{{- if .FollowUp}}
<p style="padding:8px 12px;background:#fff8c5;border-radius:6px;"><strong>Amended:</strong> the affected or fixed versions of {{.ID}} changed since the first alert.</p>
{{- end}}
<h1 style="font-size:19px;margin:0 0 4px;">{{if .Href}}<a href="{{.Href}}" style="color:#0969da;text-decoration:none;">{{.ID}}</a>{{else}}{{.ID}}{{end}}: {{.Summary}}</h1>
<div style="color:#57606a;font-size:13px;">published {{.Published}}{{with .Aliases}} · {{.}}{{end}}{{with .Why}} · qualifies: {{.}}{{end}}</div>
<h2 style="font-size:15px;margin:16px 0 4px;">Affected</h2>
<ul style="margin:0;padding-left:20px;">
{{- range .Affected}}
<li><code>{{.Module}}</code>{{with .Packages}} ({{.}}){{end}}: {{.Versions}}{{with .Fixed}}<br>fixed in {{.}}{{end}}</li>
{{- end}}
</ul>
{{- with .Upgrade}}
<p style="margin:8px 0;"><strong>Upgrade to:</strong> {{.}}</p>
{{- end}}
{{- with .Details}}
<p style="white-space:pre-line;color:#1f2328;">{{.}}</p>
{{- end}}
<h2 style="font-size:15px;margin:16px 0 4px;">Clients</h2>
<ul style="margin:0;padding-left:20px;">
{{- range .Clients}}
<li style="margin:4px 0;"><strong>{{.Name}}</strong>{{with .Tier}} ({{.}}){{end}}: {{if .Open}}may ask until <strong>{{.Closes}}</strong>, {{.Response}} response per request{{else}}their window closed {{.Closes}}{{end}}
{{- range .Touches}}<br><span style="font-size:13px;">touches {{.Concern}}: on {{.Told}} they told you <q style="font-style:italic;">{{.Summary}}</q>{{with .Via}} ({{.}}){{end}}</span>{{else}}<br><span style="font-size:13px;color:#57606a;">touches none of their concerns</span>{{end}}
{{- with .Contacts}}<br><span style="font-size:13px;color:#57606a;">contacts: {{.}}</span>{{end}}</li>
{{- else}}
<li>none covered</li>
{{- end}}
</ul>
<p style="font-size:13px;color:#57606a;">Record a request: <code>reciprocal sla ask CLIENT {{.ID}} --note …</code><br>Draft the notes: <code>reciprocal draft vuln {{.ID}}</code></p>
</body>
</html>
`))
})
