package gerrit

import (
	"net"
	"strconv"
	"strings"

	"github.com/reciprocal-access/reciprocal/watcher/source"
)

// ID returns the item ID of change n of project on the Gerrit host:
// host:project/N, where host is its label (HostLabel), go-review for
// go-review.googlesource.com. host may be a full host name or URL.
func ID(host, project string, n int) string {
	return HostLabel(host) + ":" + project + "/" + strconv.Itoa(n)
}

// HostLabel reduces a Gerrit URL or host name to the short host label used
// in item IDs: "https://go-review.googlesource.com" → "go-review". An IPv4
// address is kept whole ("127.0.0.1"), since its first number would name
// nothing.
func HostLabel(host string) string {
	host = strings.TrimPrefix(host, "https://")
	host = strings.TrimPrefix(host, "http://")
	if i := strings.IndexAny(host, "/:"); i >= 0 {
		host = host[:i]
	}
	if ip := net.ParseIP(host); ip != nil && ip.To4() != nil {
		return host
	}
	if i := strings.IndexByte(host, '.'); i >= 0 {
		host = host[:i]
	}
	if host == "" {
		return DefaultHostLabel
	}
	return host
}

// DefaultHostLabel is the host label of Go's Gerrit, used when a change's
// host is not known (for example when importing a file of ChangeInfo
// objects).
const DefaultHostLabel = "go-review"

// parseID takes apart a change's item ID, host:project/N.
func parseID(id string) (source.ParsedID, bool) {
	host, rest, _ := strings.Cut(id, ":")
	i := strings.LastIndexByte(rest, '/')
	if host == "" || i <= 0 || !source.SafePath(host) || strings.Contains(host, "/") || !source.SafePath(rest[:i]) {
		return source.ParsedID{}, false
	}
	n, err := strconv.Atoi(rest[i+1:])
	if err != nil || n <= 0 {
		return source.ParsedID{}, false
	}
	return source.ParsedID{Host: host, Repo: rest[:i], Number: n}, true
}
