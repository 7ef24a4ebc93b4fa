package github

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Where a token came from (TokenOrigin.Kind).
const (
	TokenFromEnv = "env"    // the environment variable named by token_env
	TokenFromGH  = "gh"     // the output of 'gh auth token'
	TokenGiven   = "option" // the WithToken option
	NoToken      = "none"   // unauthenticated
)

// A TokenOrigin says where the GitHub token came from, and never what it is,
// so that it can be shown in messages.
type TokenOrigin struct {
	Kind string // TokenFromEnv, TokenFromGH, TokenGiven or NoToken
	Env  string // the environment variable, for TokenFromEnv
}

// String describes the origin for a message: "$GITHUB_TOKEN",
// "gh auth token", "no token (...)".
func (o TokenOrigin) String() string {
	switch o.Kind {
	case TokenFromEnv:
		return "$" + o.Env
	case TokenFromGH:
		return "gh auth token"
	case TokenGiven:
		return "the token given to reciprocal"
	}
	return "no token (unauthenticated: GitHub allows 60 requests an hour)"
}

// Authenticated reports whether a token was found.
func (o TokenOrigin) Authenticated() bool { return o.Kind != NoToken && o.Kind != "" }

// FindToken reports where the token for a repository would come from: the
// environment variable named by cfg.TokenEnv (default GITHUB_TOKEN), else
// 'gh auth token' if gh is on PATH, else nowhere. It returns the origin
// only, never the token.
func FindToken(ctx context.Context, cfg Config) TokenOrigin {
	_, origin := findToken(ctx, cfg)
	return origin
}

// ghTimeout bounds how long 'gh auth token' may take.
const ghTimeout = 10 * time.Second

func findToken(ctx context.Context, cfg Config) (string, TokenOrigin) {
	env := cfg.TokenEnv
	if env == "" {
		env = DefaultTokenEnv
	}
	if tok := strings.TrimSpace(os.Getenv(env)); tok != "" {
		return tok, TokenOrigin{Kind: TokenFromEnv, Env: env}
	}
	if gh, err := exec.LookPath("gh"); err == nil {
		ctx, cancel := context.WithTimeout(ctx, ghTimeout)
		defer cancel()
		args := []string{"auth", "token"}
		if host := ghHost(cfg.APIURL); host != "github.com" {
			args = append(args, "--hostname", host)
		}
		// Output, not CombinedOutput: stderr may say why gh failed,
		// but nothing of it is kept or shown.
		out, err := exec.CommandContext(ctx, gh, args...).Output()
		if tok := strings.TrimSpace(string(out)); err == nil && tok != "" && !strings.ContainsAny(tok, " \t\r\n") {
			return tok, TokenOrigin{Kind: TokenFromGH}
		}
	}
	return "", TokenOrigin{Kind: NoToken}
}

// ghHost returns the host name gh knows the API's server by:
// github.com for api.github.com, the host otherwise.
func ghHost(apiURL string) string {
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" {
		return "github.com"
	}
	return strings.TrimPrefix(u.Host, "api.")
}

// hostAuth adds the token (through golang.org/x/oauth2) to requests for the
// API's host only, so that a redirect to another host never carries it.
type hostAuth struct {
	host  string
	oauth http.RoundTripper
	base  http.RoundTripper
}

func newHostAuth(host, token string, base http.RoundTripper) http.RoundTripper {
	if token == "" {
		return base
	}
	return &hostAuth{
		host:  host,
		oauth: &oauth2.Transport{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}), Base: base},
		base:  base,
	}
}

func (t *hostAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == t.host {
		return t.oauth.RoundTrip(req)
	}
	return t.base.RoundTrip(req)
}
