package storage

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
)

// SignedIdentifier is a stored access policy of a table: a service SAS
// naming its ID (si) takes the start, expiry and permissions it leaves out
// from here, and is revoked when the policy is removed.
type SignedIdentifier struct {
	ID         string `json:"id" xml:"Id"`
	Start      string `json:"start,omitempty" xml:"AccessPolicy>Start,omitempty"`
	Expiry     string `json:"expiry,omitempty" xml:"AccessPolicy>Expiry,omitempty"`
	Permission string `json:"permission,omitempty" xml:"AccessPolicy>Permission,omitempty"`
}

type signedIdentifiers struct {
	XMLName xml.Name           `xml:"SignedIdentifiers"`
	Items   []SignedIdentifier `xml:"SignedIdentifier"`
}

// maxPolicies is the number of stored access policies a table may hold.
const maxPolicies = 5

// parseACL reads a Set Table ACL body and checks its policies.
func parseACL(r io.Reader) ([]SignedIdentifier, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, invalidInput("The request body could not be read.")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	var s signedIdentifiers
	if err := xml.Unmarshal(b, &s); err != nil {
		return nil, errorf(400, "InvalidXmlDocument", "XML specified is not syntactically valid.")
	}
	if len(s.Items) > maxPolicies {
		return nil, invalidInput("A table may have at most %d stored access policies.", maxPolicies)
	}
	seen := map[string]bool{}
	for i, it := range s.Items {
		if it.ID == "" || len(it.ID) > 64 || seen[it.ID] {
			return nil, invalidInput("Each stored access policy needs a unique Id of 1 to 64 characters.")
		}
		seen[it.ID] = true
		for _, t := range []string{it.Start, it.Expiry} {
			if t != "" {
				if _, err := parseSASTime(t); err != nil {
					return nil, invalidInput("The stored access policy %q has an invalid time.", clip(it.ID))
				}
			}
		}
		if strings.Trim(it.Permission, "raud") != "" {
			return nil, invalidInput("The stored access policy %q has permissions other than r, a, u and d.", clip(it.ID))
		}
		s.Items[i] = it
	}
	return s.Items, nil
}

// marshalACL writes a Get Table ACL body.
func marshalACL(ids []SignedIdentifier) []byte {
	b, _ := xml.Marshal(signedIdentifiers{Items: ids})
	return append([]byte(xml.Header), b...)
}
