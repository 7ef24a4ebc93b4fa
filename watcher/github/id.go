package github

import (
	"strconv"
	"strings"

	"github.com/reciprocal-access/reciprocal/watcher/source"
)

// parseID takes apart an issue's item ID, owner/repo#N (built by
// index.GitHubID; see the package documentation of index).
func parseID(id string) (source.ParsedID, bool) {
	repo, num, _ := strings.Cut(id, "#")
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 || strings.Count(repo, "/") != 1 || !source.SafePath(repo) {
		return source.ParsedID{}, false
	}
	return source.ParsedID{Repo: repo, Number: n}, true
}
