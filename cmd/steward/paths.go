package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// expandJSONPaths turns command-line paths into files: a file stays, a
// directory becomes the .json files under it (recursively, sorted), as
// policy test and scan read directories.
func expandJSONPaths(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, usageError("%v", err)
		}
		if !fi.IsDir() {
			out = append(out, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".json") {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, usageError("%v", err)
		}
		if len(found) == 0 {
			return nil, usageError("%s: no .json files", a)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}
