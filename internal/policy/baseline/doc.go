// Package baseline ships Steward's secure-baseline initiative: custom
// policy definitions written for Steward (required tags with allowed
// values, allowed locations, no administrative ports open to the
// Internet, diagnostic settings to a Log Analytics workspace, approved VM
// images, secure storage transfer, Key Vault purge protection) and the
// initiative that groups them. The documents are embedded in the binary;
// `steward template check` assigns them by default and `steward baseline
// assign` creates them in a cloud.
package baseline

import (
	"embed"
	"io/fs"
)

//go:embed definitions/*.json initiative.json
var files embed.FS

// FS returns the baseline's documents: definitions/*.json and
// initiative.json.
func FS() fs.FS { return files }

// InitiativeName is the name of the baseline initiative.
const InitiativeName = "steward-secure-baseline"

//go:embed initiative.json
var initiative embed.FS

// Initiative returns a file system holding only the initiative, to
// assign it without assigning each definition on its own.
func Initiative() fs.FS { return initiative }

// Definitions returns the definitions alone, to resolve the initiative's
// members.
func Definitions() fs.FS {
	sub, err := fs.Sub(files, "definitions")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}
