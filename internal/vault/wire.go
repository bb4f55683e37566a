package vault

// The JSON shapes of Key Vault's data plane (api-version 7.x and
// 2025-07-01), as the REST specs name their fields.

// Attributes are an object version's management attributes. Times are Unix
// seconds.
type Attributes struct {
	Enabled         *bool  `json:"enabled,omitempty"`
	NotBefore       *int64 `json:"nbf,omitempty"`
	Expires         *int64 `json:"exp,omitempty"`
	Created         int64  `json:"created,omitempty"`
	Updated         int64  `json:"updated,omitempty"`
	RecoveryLevel   string `json:"recoveryLevel,omitempty"`
	RecoverableDays int    `json:"recoverableDays,omitempty"`
	// Exportable is set on keys only.
	Exportable *bool `json:"exportable,omitempty"`
}

// enabled reports the effective enabled flag (absent means enabled).
func (a Attributes) enabled() bool { return a.Enabled == nil || *a.Enabled }

// SecretBundle is a secret version with its value.
type SecretBundle struct {
	Value       string            `json:"value,omitempty"`
	ID          string            `json:"id"`
	ContentType string            `json:"contentType,omitempty"`
	Attributes  Attributes        `json:"attributes"`
	Tags        map[string]string `json:"tags,omitempty"`
	// KID is set on the secret that backs a certificate.
	KID     string `json:"kid,omitempty"`
	Managed bool   `json:"managed,omitempty"`
}

// SecretItem is a secret in a list: no value.
type SecretItem struct {
	ID          string            `json:"id"`
	ContentType string            `json:"contentType,omitempty"`
	Attributes  Attributes        `json:"attributes"`
	Tags        map[string]string `json:"tags,omitempty"`
	Managed     bool              `json:"managed,omitempty"`
}

// Deleted carries the soft-delete fields that deleted bundles add.
type Deleted struct {
	RecoveryID         string `json:"recoveryId,omitempty"`
	DeletedDate        int64  `json:"deletedDate,omitempty"`
	ScheduledPurgeDate int64  `json:"scheduledPurgeDate,omitempty"`
}

// DeletedSecretBundle is a secret in the deleted state.
type DeletedSecretBundle struct {
	SecretBundle
	Deleted
}

// DeletedSecretItem is a deleted secret in a list.
type DeletedSecretItem struct {
	SecretItem
	Deleted
}

// JSONWebKey is a key's public part as a JWK (RFC 7517), as Key Vault
// returns it; private members are never sent.
type JSONWebKey struct {
	KID    string   `json:"kid,omitempty"`
	Kty    string   `json:"kty,omitempty"`
	KeyOps []string `json:"key_ops,omitempty"`
	N      string   `json:"n,omitempty"`
	E      string   `json:"e,omitempty"`
	Crv    string   `json:"crv,omitempty"`
	X      string   `json:"x,omitempty"`
	Y      string   `json:"y,omitempty"`
	// Private members, accepted on import only.
	D  string `json:"d,omitempty"`
	P  string `json:"p,omitempty"`
	Q  string `json:"q,omitempty"`
	DP string `json:"dp,omitempty"`
	DQ string `json:"dq,omitempty"`
	QI string `json:"qi,omitempty"`
}

// KeyBundle is a key version.
type KeyBundle struct {
	Key        JSONWebKey        `json:"key"`
	Attributes Attributes        `json:"attributes"`
	Tags       map[string]string `json:"tags,omitempty"`
	Managed    bool              `json:"managed,omitempty"`
}

// KeyItem is a key in a list.
type KeyItem struct {
	KID        string            `json:"kid"`
	Attributes Attributes        `json:"attributes"`
	Tags       map[string]string `json:"tags,omitempty"`
	Managed    bool              `json:"managed,omitempty"`
}

// DeletedKeyBundle is a key in the deleted state.
type DeletedKeyBundle struct {
	KeyBundle
	Deleted
}

// DeletedKeyItem is a deleted key in a list.
type DeletedKeyItem struct {
	KeyItem
	Deleted
}

// KeyOperationResult is the answer of sign, encrypt, decrypt, wrapkey and
// unwrapkey: the key version used and the result (base64url).
type KeyOperationResult struct {
	KID   string `json:"kid"`
	Value string `json:"value"`
}

// KeyVerifyResult is the answer of verify.
type KeyVerifyResult struct {
	Value bool `json:"value"`
}

// KeyRotationPolicy is a key's rotation policy.
type KeyRotationPolicy struct {
	ID              string           `json:"id,omitempty"`
	LifetimeActions []LifetimeAction `json:"lifetimeActions"`
	Attributes      *PolicyTimes     `json:"attributes,omitempty"`
}

// LifetimeAction is one rotation policy action and its trigger.
type LifetimeAction struct {
	Trigger struct {
		TimeAfterCreate  string `json:"timeAfterCreate,omitempty"`
		TimeBeforeExpiry string `json:"timeBeforeExpiry,omitempty"`
	} `json:"trigger"`
	Action struct {
		Type string `json:"type"`
	} `json:"action"`
}

// PolicyTimes are the attributes of a rotation policy.
type PolicyTimes struct {
	ExpiryTime string `json:"expiryTime,omitempty"`
	Created    int64  `json:"created,omitempty"`
	Updated    int64  `json:"updated,omitempty"`
}

// CertificateBundle is a certificate version: the DER certificate (cer),
// its SHA-1 thumbprint (x5t) and the IDs of the backing key and secret.
type CertificateBundle struct {
	ID          string             `json:"id"`
	KID         string             `json:"kid,omitempty"`
	SID         string             `json:"sid,omitempty"`
	X5T         string             `json:"x5t,omitempty"`
	CER         []byte             `json:"cer,omitempty"`
	ContentType string             `json:"contentType,omitempty"`
	Attributes  Attributes         `json:"attributes"`
	Policy      *CertificatePolicy `json:"policy,omitempty"`
	Tags        map[string]string  `json:"tags,omitempty"`
}

// CertificateItem is a certificate in a list.
type CertificateItem struct {
	ID         string            `json:"id"`
	X5T        string            `json:"x5t,omitempty"`
	Attributes Attributes        `json:"attributes"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// DeletedCertificateBundle is a certificate in the deleted state.
type DeletedCertificateBundle struct {
	CertificateBundle
	Deleted
}

// DeletedCertificateItem is a deleted certificate in a list.
type DeletedCertificateItem struct {
	CertificateItem
	Deleted
}

// CertificatePolicy says how a certificate's versions are made.
type CertificatePolicy struct {
	ID              string                `json:"id,omitempty"`
	KeyProps        *KeyProperties        `json:"key_props,omitempty"`
	SecretProps     *SecretProperties     `json:"secret_props,omitempty"`
	X509Props       *X509Properties       `json:"x509_props,omitempty"`
	LifetimeActions []CertLifetimeAction  `json:"lifetime_actions,omitempty"`
	Issuer          *IssuerParameters     `json:"issuer,omitempty"`
	Attributes      *CertPolicyAttributes `json:"attributes,omitempty"`
}

// KeyProperties are a certificate policy's key properties.
type KeyProperties struct {
	Exportable *bool  `json:"exportable,omitempty"`
	Kty        string `json:"kty,omitempty"`
	KeySize    int    `json:"key_size,omitempty"`
	ReuseKey   *bool  `json:"reuse_key,omitempty"`
	Crv        string `json:"crv,omitempty"`
}

// SecretProperties name the backing secret's content type.
type SecretProperties struct {
	ContentType string `json:"contentType,omitempty"`
}

// X509Properties are the certificate's subject, names, usages and validity.
type X509Properties struct {
	Subject        string   `json:"subject,omitempty"`
	Ekus           []string `json:"ekus,omitempty"`
	SANs           *SANs    `json:"sans,omitempty"`
	KeyUsage       []string `json:"key_usage,omitempty"`
	ValidityMonths int      `json:"validity_months,omitempty"`
}

// SANs are subject alternative names.
type SANs struct {
	Emails   []string `json:"emails,omitempty"`
	DNSNames []string `json:"dns_names,omitempty"`
	UPNs     []string `json:"upns,omitempty"`
}

// CertLifetimeAction is a certificate policy's lifetime action.
type CertLifetimeAction struct {
	Trigger struct {
		LifetimePercentage int `json:"lifetime_percentage,omitempty"`
		DaysBeforeExpiry   int `json:"days_before_expiry,omitempty"`
	} `json:"trigger"`
	Action struct {
		ActionType string `json:"action_type,omitempty"`
	} `json:"action"`
}

// IssuerParameters name the issuer: Self or Unknown.
type IssuerParameters struct {
	Name             string `json:"name,omitempty"`
	CertType         string `json:"cty,omitempty"`
	CertTransparency *bool  `json:"cert_transparency,omitempty"`
}

// CertPolicyAttributes are a policy's attributes.
type CertPolicyAttributes struct {
	Enabled *bool `json:"enabled,omitempty"`
	Created int64 `json:"created,omitempty"`
	Updated int64 `json:"updated,omitempty"`
}

// CertificateOperation is the pending operation of a certificate being
// created.
type CertificateOperation struct {
	ID                    string            `json:"id"`
	Issuer                *IssuerParameters `json:"issuer,omitempty"`
	CSR                   []byte            `json:"csr,omitempty"`
	CancellationRequested bool              `json:"cancellation_requested"`
	Status                string            `json:"status"`
	StatusDetails         string            `json:"status_details,omitempty"`
	Error                 *ErrorBody        `json:"error,omitempty"`
	Target                string            `json:"target,omitempty"`
	RequestID             string            `json:"request_id,omitempty"`
}

// ErrorBody is Key Vault's error object.
type ErrorBody struct {
	Code       string     `json:"code"`
	Message    string     `json:"message"`
	InnerError *ErrorBody `json:"innererror,omitempty"`
}

// listPage is a page of a list operation.
type listPage[T any] struct {
	Value    []T     `json:"value"`
	NextLink *string `json:"nextLink"`
}
