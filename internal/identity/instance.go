package identity

import (
	"net/http"
	"net/url"
	"strings"
)

// InstanceDiscoveryPath is Entra's instance discovery endpoint. MSAL asks
// it, on login.microsoftonline.com, to validate an authority and to learn
// where the tenant's discovery document is, before anything else.
const InstanceDiscoveryPath = "/common/discovery/instance"

// instanceMetadata is one cloud in the instance discovery answer: the
// host to send requests to, the one to key caches by, and the host names
// that are the same cloud.
type instanceMetadata struct {
	PreferredNetwork string   `json:"preferred_network"`
	PreferredCache   string   `json:"preferred_cache"`
	Aliases          []string `json:"aliases"`
}

// instanceDiscovery is the answer of InstanceDiscoveryPath.
type instanceDiscovery struct {
	TenantDiscoveryEndpoint string             `json:"tenant_discovery_endpoint"`
	APIVersion              string             `json:"api-version"`
	Metadata                []instanceMetadata `json:"metadata"`
}

// serveInstanceDiscovery answers GET
// /common/discovery/instance?api-version=1.1&authorization_endpoint=https://{host}/{tenant}/oauth2/v2.0/authorize.
// An authorization endpoint on a host this service answers as (its
// authority host or one of Options.Hosts) gets the tenant's v2.0
// discovery document and the host aliases of the public cloud; any other
// host is an unknown instance (AADSTS50049), as Entra answers for a host
// that is not one of its clouds.
func (s *Service) serveInstanceDiscovery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.fail(w, r, errMethodGet())
		return
	}
	q := r.URL.Query()
	ep := q.Get("authorization_endpoint")
	if ep == "" {
		s.fail(w, r, errMissingParam("authorization_endpoint"))
		return
	}
	u, err := url.Parse(ep)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		s.fail(w, r, errUnknownInstance())
		return
	}
	self := s.authority(r)
	host := strings.ToLower(u.Host)
	known := strings.EqualFold("https://"+host+"/", self)
	for _, h := range s.opts.Hosts {
		known = known || strings.EqualFold(h, host)
	}
	if !known {
		s.fail(w, r, errUnknownInstance())
		return
	}
	tenant, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if tenant == "" {
		tenant = "common"
	}
	aliases := []string{host}
	for _, h := range s.opts.Hosts {
		if !strings.EqualFold(h, host) && !strings.Contains(h, "*") {
			aliases = append(aliases, strings.ToLower(h))
		}
	}
	writeJSON(w, instanceDiscovery{
		TenantDiscoveryEndpoint: "https://" + host + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		APIVersion:              "1.1",
		Metadata:                []instanceMetadata{{PreferredNetwork: host, PreferredCache: host, Aliases: aliases}},
	})
}

func errUnknownInstance() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_instance", 50049, "Unknown or invalid instance.")
}
