// Package github reads the Go issue tracker (and any other GitHub
// repository): it turns GitHub REST issue and comment objects into items, and
// syncs them incrementally into the store.
//
// # Sync
//
// A [Source] reads two listings of one repository, each oldest change first,
// 100 objects a page, following the Link header:
//
//	GET /repos/{owner}/{name}/issues?state=all&sort=updated&direction=asc&since=T&per_page=100
//	GET /repos/{owner}/{name}/issues/comments?sort=updated&direction=asc&since=T&per_page=100
//
// Issues and pull requests are stored with store.Tx.PutItem under their item
// ID (golang/go#N); comments with store.Tx.PutComment under their issue's
// item ID, which touches the issue so that the index normalizes it again
// with its comments. Every object is stored byte for byte as GitHub served
// it.
//
// Each page is committed in one transaction together with the listing's
// cursor, so a sync that is cancelled or killed resumes after the last
// committed page. GitHub's since is inclusive, so a resumed listing serves
// the newest objects of the last page again; they are stored unchanged.
//
// A pass over a listing ends at its last page. When the pass moved the
// cursor, another pass starts from the new cursor: it normally gets one page
// holding only the objects it already has, and that page's ETag goes into
// the cursor. The next sync then sends it as If-None-Match and, if nothing
// changed, is answered 304 Not Modified, which costs no rate limit. So a
// first sync of N issues and C comments makes ⌈N/100⌉ + ⌈C/100⌉ + 2
// requests, and a sync that finds nothing new makes 2 requests, both 304.
//
// # Cursors
//
// Cursors are kept in the store's cursors bucket:
//
//	github:{owner}/{name}:issues    → {"since":"2024-05-01T12:00:00Z","etag":"W/\"…\""}
//	github:{owner}/{name}:comments  → {"since":"2024-05-01T12:00:00Z"}
//
// owner/name is lower case. since is the updated_at of the newest object
// stored from the listing (the last object of the last committed page), the
// next sync's since. etag, when present, is the ETag of the first page of
// the listing since that time, stored only when that page was the whole
// listing. A repository without a cursor is read from source.Options.Since,
// else its configured since, else a year back.
//
// # Limits and faults
//
// An exhausted primary rate limit (X-RateLimit-Remaining 0) is waited out
// until X-RateLimit-Reset, and the secondary limit for its Retry-After, when
// that is within source.Options.MaxWait (default 15 minutes); otherwise the
// sync stops with a [*LimitError] saying when to retry, its cursors saved.
// Server errors, reset connections and timeouts are retried four times with
// jittered exponential backoff. A body that does not parse, cut short or
// malformed, is an error naming the URL, and its page is not committed.
//
// # Token
//
// The token comes from the environment variable named by token_env (default
// GITHUB_TOKEN), else from 'gh auth token', else there is none; see
// [FindToken]. It goes to the API through golang.org/x/oauth2, only to the
// API's host, and never into messages, logs or stats.
package github
