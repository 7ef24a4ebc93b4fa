package notify

import (
	"html/template"
	"sync"
)

// htmlTemplate renders the HTML part. html/template escapes every value for
// its context, so tracker text cannot add markup; the only trusted HTML is
// the snippet, which index.Snippet.HTML escapes itself. Styles are inline,
// as many mail clients drop <style> elements.
var htmlTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("briefing").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="margin:0;padding:0;background:#f6f8fa;">
<div style="max-width:680px;margin:0 auto;padding:20px 16px;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:15px;line-height:1.45;color:#1f2328;">
{{- if .Empty}}
<p style="font-size:17px;margin:0 0 16px;">Nothing needs you today.</p>
{{- else}}
<h1 style="font-size:20px;margin:0 0 4px;">{{.Heading}}</h1>
{{- with .Summary}}
<p style="margin:0 0 16px;color:#57606a;">{{.}}</p>
{{- end}}
{{- end}}
{{- with .History}}
<p style="margin:0 0 16px;padding:8px 12px;background:#ddf4ff;border-radius:6px;">{{.}}</p>
{{- end}}

{{- with .Requests}}
<h2 style="font-size:16px;margin:24px 0 8px;text-transform:uppercase;letter-spacing:0.04em;color:#cf222e;">SLA requests open</h2>
{{- range .}}
<div style="background:#ffffff;border:1px solid #d0d7de;border-left:4px solid #cf222e;border-radius:6px;padding:10px 14px;margin:0 0 12px;">
<div style="font-weight:600;">{{.ID}} · {{.Client}} about {{.Vuln}}: {{.Summary}}</div>
<div>{{if .Overdue}}<span style="color:#cf222e;font-weight:600;">overdue by {{.Left}}</span> (answer was due {{.Deadline}}){{else}}answer by {{.Deadline}}, <span style="font-weight:600;">{{.Left}} left</span>{{end}} <span style="font-size:13px;color:#57606a;">(asked {{.Asked}})</span></div>
{{- with .Note}}
<div style="font-size:13px;color:#57606a;">they asked: <q style="font-style:italic;">{{.}}</q></div>
{{- end}}
<div style="font-size:13px;color:#57606a;">close it: <code>reciprocal sla answer {{.ID}} --note …</code></div>
</div>
{{- end}}
{{- end}}

{{- with .Vulns}}
<h2 style="font-size:16px;margin:24px 0 8px;text-transform:uppercase;letter-spacing:0.04em;color:#cf222e;">Vulnerabilities in their SLA window</h2>
{{- range .}}
<div style="background:#ffffff;border:1px solid #d0d7de;border-left:4px solid #cf222e;border-radius:6px;padding:10px 14px;margin:0 0 12px;">
<div style="font-weight:600;">{{if .Href}}<a href="{{.Href}}" style="color:#0969da;text-decoration:none;">{{.ID}}</a>{{else}}{{.ID}}{{end}}: {{.Summary}}</div>
<div style="font-size:13px;color:#57606a;">published {{.Published}}{{with .Aliases}} · {{.}}{{end}}{{with .Packages}} · <code>{{.}}</code>{{end}}</div>
{{- with .Clients}}
<ul style="margin:8px 0 0;padding-left:20px;">
{{- range .}}
<li style="margin:2px 0;"><strong>{{.Client}}</strong>{{with .Tier}} ({{.}}){{end}}
{{- if .NoDeadline}}{{else if .Overdue}}: window closed {{.Deadline}}{{else}}: may ask until {{.Deadline}}, <span style="font-weight:600;">{{.Left}} left</span>{{end}}
{{- with .Concern}}<br><span style="font-size:13px;color:#57606a;">concern: {{.}}</span>{{end}}</li>
{{- end}}
</ul>
{{- end}}
</div>
{{- end}}
{{- end}}

{{- with .Clients}}
<h2 style="font-size:16px;margin:24px 0 8px;text-transform:uppercase;letter-spacing:0.04em;">Consult prompts</h2>
{{- range .}}
<div style="margin:0 0 16px;">
<h3 style="font-size:16px;margin:0 0 2px;padding:4px 0 4px 10px;border-left:4px solid {{.Accent}};">{{.Client}}{{with .Tier}} <span style="font-weight:normal;color:#57606a;">({{.}})</span>{{end}} <span style="font-weight:normal;color:#57606a;">· {{.Count}}</span></h3>
{{- with .Contacts}}
<div style="font-size:13px;color:#57606a;margin:0 0 6px 14px;">ask: {{.}}</div>
{{- end}}
{{- range .Prompts}}
<div style="background:#ffffff;border:1px solid #d0d7de;border-radius:6px;padding:10px 14px;margin:6px 0 0 14px;">
<div style="font-weight:600;">{{.N}}. {{if .Href}}<a href="{{.Href}}" style="color:#0969da;text-decoration:none;">{{.Title}}</a>{{else}}{{.Title}}{{end}}
{{- if .High}} <span style="font-size:12px;font-weight:600;color:#ffffff;background:#cf222e;border-radius:10px;padding:1px 7px;">high priority</span>{{else if .Low}} <span style="font-size:12px;color:#57606a;">low priority</span>{{end}}</div>
<div style="font-size:13px;color:#57606a;">{{.Kind}} {{.ItemID}}{{with .Status}}, {{.}}{{end}}</div>
<table style="border-collapse:collapse;margin-top:6px;font-size:14px;">
{{- with .Trigger}}
<tr><td style="padding:1px 10px 1px 0;color:#57606a;vertical-align:top;white-space:nowrap;">why now</td><td style="padding:1px 0;">{{.}}</td></tr>
{{- end}}
{{- with .Concern}}
<tr><td style="padding:1px 10px 1px 0;color:#57606a;vertical-align:top;white-space:nowrap;">concern</td><td style="padding:1px 0;">{{.}}</td></tr>
{{- end}}
{{- if .HasTold}}
<tr><td style="padding:1px 10px 1px 0;color:#57606a;vertical-align:top;white-space:nowrap;">they said</td><td style="padding:1px 0;"><q style="font-style:italic;white-space:pre-line;">{{.Told}}</q>{{with .ToldMeta}} <span style="color:#57606a;">({{.}})</span>{{end}}</td></tr>
{{- end}}
{{- if .Matched}}
<tr><td style="padding:1px 10px 1px 0;color:#57606a;vertical-align:top;white-space:nowrap;">matched</td><td style="padding:1px 0;">{{with .Packages}}<code>{{.}}</code>{{end}}{{if and .Packages .Terms}}; {{end}}{{with .Terms}}terms {{.}}{{end}}
{{- with .SnippetHTML}}<div style="font-size:13px;color:#57606a;margin-top:2px;">{{.}}</div>{{end}}</td></tr>
{{- end}}
{{- with .Members}}
<tr><td style="padding:1px 10px 1px 0;color:#57606a;vertical-align:top;white-space:nowrap;">topic</td><td style="padding:1px 0;font-size:13px;">{{range .}}<div>{{.Kind}} {{.ItemID}}{{with .Status}}, {{.}}{{end}}: {{.Title}}{{with .Why}} <span style="color:#57606a;">({{.}})</span>{{end}}</div>{{end}}</td></tr>
{{- end}}
{{- with .Close}}
<tr><td style="padding:1px 10px 1px 0;color:#57606a;vertical-align:top;white-space:nowrap;">close</td><td style="padding:1px 0;"><code>{{.}}</code></td></tr>
{{- end}}
</table>
</div>
{{- end}}
</div>
{{- end}}
{{- end}}

{{- with .Stages}}
<h2 style="font-size:16px;margin:24px 0 8px;text-transform:uppercase;letter-spacing:0.04em;">Proposals changing stage</h2>
{{- range .}}
<div style="background:#ffffff;border:1px solid #d0d7de;border-radius:6px;padding:10px 14px;margin:0 0 8px;">
<div style="font-weight:600;">{{if .Href}}<a href="{{.Href}}" style="color:#0969da;text-decoration:none;">{{.ItemID}}</a>{{else}}{{.ItemID}}{{end}}: {{.Title}}</div>
<div style="font-size:14px;">{{.From}} → <strong>{{.To}}</strong>, {{.At}}{{with .Clients}} · watched by {{.}}{{end}}</div>
{{- with .Packages}}
<div style="font-size:13px;color:#57606a;"><code>{{.}}</code></div>
{{- end}}
</div>
{{- end}}
{{- end}}

{{- with .Held}}
<h2 style="font-size:16px;margin:24px 0 8px;text-transform:uppercase;letter-spacing:0.04em;">Probably not relevant (held back)</h2>
<ul style="margin:0;padding-left:20px;font-size:14px;">
{{- range .}}
<li>{{.ItemID}}: {{.Title}}<br><span style="color:#57606a;">{{.Client}} / {{.Concern}}: {{.Reason}} · <code>reciprocal queue reopen {{.ID}}</code></span></li>
{{- end}}
</ul>
{{- end}}
{{- if .HeldMore}}
<p style="font-size:13px;color:#57606a;">({{.HeldMore}} more: <code>reciprocal queue --held</code>)</p>
{{- end}}

{{- with .Digests}}
<h2 style="font-size:16px;margin:24px 0 8px;text-transform:uppercase;letter-spacing:0.04em;">Digests due</h2>
<ul style="margin:0;padding-left:20px;">
{{- range .}}
<li><strong>{{.Client}}</strong>: the {{.Period}} digest (<code>{{.Command}}</code>)</li>
{{- end}}
</ul>
{{- end}}

<div style="margin-top:24px;padding-top:8px;border-top:1px solid #d0d7de;font-size:13px;color:#57606a;">
{{- with .SyncOK}}
<div>Sync: {{.}}</div>
{{- end}}
{{- range .Health}}
<div>Sync: {{.Source}}: {{if .Failing}}<span style="color:#cf222e;font-weight:600;">{{.Status}}</span>{{else}}{{.Status}}{{end}}{{with .Error}}<br><span style="font-family:monospace;">{{.}}</span>{{end}}</div>
{{- end}}
</div>
</div>
</body>
</html>
`))
})
