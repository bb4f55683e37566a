package identity

import (
	"context"
	"sort"
	"strings"
)

// TransitiveGroups returns the IDs of the groups objectID belongs to,
// directly or through nested groups, sorted. Cycles in the nesting are
// harmless: each group is visited once.
func (d *Directory) TransitiveGroups(ctx context.Context, tenantID, objectID string) ([]string, error) {
	groups, err := d.Groups(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return transitive(groups, objectID), nil
}

// transitive walks the member-of graph upward from objectID.
func transitive(groups []Group, objectID string) []string {
	parents := map[string][]string{} // member id -> groups that contain it
	for _, g := range groups {
		for _, m := range g.Members {
			k := strings.ToLower(m)
			parents[k] = append(parents[k], strings.ToLower(g.ID))
		}
	}
	seen := map[string]bool{}
	queue := []string{strings.ToLower(objectID)}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, p := range parents[cur] {
			if !seen[p] {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
