//go:build !unix

package server

import "os"

// tryLock has no portable exclusive lock on this platform: the data
// directory is not protected against a second serve there
// (docs/decisions/server.md).
func tryLock(*os.File) (bool, error) { return false, nil }

func unlock(*os.File) error { return nil }
