package vault

import (
	"encoding/json"
	"strings"
)

// pendingOp is a certificate's pending operation as stored: the operation
// the API shows, and for an Unknown issuer the key waiting for its merge.
type pendingOp struct {
	Op         CertificateOperation `json:"op"`
	Private    []byte               `json:"private,omitempty"`
	Kty        string               `json:"kty,omitempty"`
	Attributes *Attributes          `json:"attributes,omitempty"`
	Tags       map[string]string    `json:"tags,omitempty"`
}

// Issuer names.
const (
	IssuerSelf    = "Self"
	IssuerUnknown = "Unknown"
)

// normalizePolicy fills a policy's defaults the way Key Vault does and
// validates it.
func normalizePolicy(in *CertificatePolicy, now int64) (*CertificatePolicy, error) {
	if in == nil {
		return nil, badParameter("The certificate policy is required.")
	}
	p := clonePolicy(in)
	if p.KeyProps == nil {
		p.KeyProps = &KeyProperties{}
	}
	kp := p.KeyProps
	if kp.Kty == "" {
		kp.Kty = "RSA"
	}
	switch {
	case isRSA(kp.Kty):
		if kp.KeySize == 0 {
			kp.KeySize = 2048
		}
	case isEC(kp.Kty):
		if kp.Crv == "" {
			kp.Crv = "P-256"
		}
	default:
		return nil, badParameter("The key type %q is not supported for certificates: use RSA, RSA-HSM, EC or EC-HSM.", kp.Kty)
	}
	if kp.Exportable == nil {
		t := !strings.HasSuffix(kp.Kty, "-HSM")
		kp.Exportable = &t
	}
	if *kp.Exportable && strings.HasSuffix(kp.Kty, "-HSM") {
		return nil, badParameter("HSM-protected keys (%s) cannot be exportable.", kp.Kty)
	}
	if kp.ReuseKey == nil {
		f := false
		kp.ReuseKey = &f
	}
	if p.SecretProps == nil || p.SecretProps.ContentType == "" {
		p.SecretProps = &SecretProperties{ContentType: ContentTypePKCS12}
	}
	if ct := p.SecretProps.ContentType; ct != ContentTypePKCS12 && ct != ContentTypePEM {
		return nil, badParameter("The secret content type %q is not supported: use %s or %s.", ct, ContentTypePKCS12, ContentTypePEM)
	}
	if p.X509Props == nil || p.X509Props.Subject == "" && (p.X509Props.SANs == nil || len(p.X509Props.SANs.DNSNames)+len(p.X509Props.SANs.Emails)+len(p.X509Props.SANs.UPNs) == 0) {
		return nil, badParameter("The certificate policy needs a subject or subject alternative names.")
	}
	if p.X509Props.ValidityMonths == 0 {
		p.X509Props.ValidityMonths = 12
	}
	if p.X509Props.ValidityMonths < 0 || p.X509Props.ValidityMonths > 1200 {
		return nil, badParameter("validity_months must be between 1 and 1200.")
	}
	if len(p.X509Props.KeyUsage) == 0 {
		p.X509Props.KeyUsage = []string{"digitalSignature", "keyEncipherment"}
		if isEC(kp.Kty) {
			p.X509Props.KeyUsage = []string{"digitalSignature"}
		}
	}
	if p.X509Props.Ekus == nil {
		// Server and client authentication, as the CSR in Key Vault's
		// CreateCertificate example carries.
		p.X509Props.Ekus = []string{"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"}
	}
	if p.Issuer == nil || p.Issuer.Name == "" {
		p.Issuer = &IssuerParameters{Name: IssuerUnknown}
	}
	switch strings.ToLower(p.Issuer.Name) {
	case "self":
		p.Issuer.Name = IssuerSelf
	case "unknown":
		p.Issuer.Name = IssuerUnknown
	default:
		return nil, badParameter("The issuer %q is not configured in this vault: use Self or Unknown.", p.Issuer.Name)
	}
	if len(p.LifetimeActions) == 0 {
		var a CertLifetimeAction
		a.Trigger.LifetimePercentage = 80
		a.Action.ActionType = "AutoRenew"
		if p.Issuer.Name == IssuerUnknown {
			a.Action.ActionType = "EmailContacts"
		}
		p.LifetimeActions = []CertLifetimeAction{a}
	}
	for _, a := range p.LifetimeActions {
		if t := a.Trigger.LifetimePercentage; t != 0 && (t < 1 || t > 99) {
			return nil, badParameter("lifetime_percentage must be between 1 and 99.")
		}
		switch a.Action.ActionType {
		case "EmailContacts", "AutoRenew":
		default:
			return nil, badParameter("The lifetime action %q is invalid: use EmailContacts or AutoRenew.", a.Action.ActionType)
		}
	}
	if p.Attributes == nil {
		t := true
		p.Attributes = &CertPolicyAttributes{Enabled: &t, Created: now}
	}
	p.Attributes.Updated = now
	p.ID = ""
	return p, nil
}

// clonePolicy deep-copies a policy through JSON.
func clonePolicy(p *CertificatePolicy) *CertificatePolicy {
	b, _ := json.Marshal(p)
	var out CertificatePolicy
	_ = json.Unmarshal(b, &out)
	return &out
}

// mergePolicy overlays the parts of an update onto a policy.
func mergePolicy(old, upd *CertificatePolicy) *CertificatePolicy {
	p := clonePolicy(old)
	if upd.KeyProps != nil {
		p.KeyProps = upd.KeyProps
	}
	if upd.SecretProps != nil {
		p.SecretProps = upd.SecretProps
	}
	if upd.X509Props != nil {
		p.X509Props = upd.X509Props
	}
	if upd.LifetimeActions != nil {
		p.LifetimeActions = upd.LifetimeActions
	}
	if upd.Issuer != nil {
		p.Issuer = upd.Issuer
	}
	if upd.Attributes != nil {
		p.Attributes.Enabled = upd.Attributes.Enabled
	}
	return p
}
