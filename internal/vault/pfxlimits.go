package vault

import (
	"encoding/asn1"
	"errors"
	"math/big"
)

// PKCS #12 work limits. The password-based key derivations of a PFX run
// with iteration counts read from the file itself, before anything in it
// can be authenticated, so an upload can name any amount of work (2^31
// iterations is minutes of CPU). An import is refused unless each count is
// at most maxPFXIterations and all of them together at most
// maxPFXTotalIterations: the limits .NET's PKCS #12 loader applies to
// untrusted files, on which Key Vault's certificate import runs
// (docs/decisions/vault.md).
const (
	maxPFXIterations      = 600_000
	maxPFXTotalIterations = 1_000_000
)

// Object identifiers of the password-based schemes whose parameters carry
// an iteration count: the PKCS #12 PBE family (1.2.840.113549.1.12.1.*,
// parameters {salt, iterations}) and PBKDF2 (parameters {salt,
// iterationCount, ...}), which PBES2 names inside its own parameters.
var (
	oidPKCS12PBE = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1}
	oidPBKDF2    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidPBES1MD5  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 3}
	oidPBES1SHA1 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 10}
)

// errPFXWork is returned for a PFX whose iteration counts exceed the
// limits, or are not positive.
var errPFXWork = errors.New("pfx iteration counts out of range")

// checkPFXWork reads every iteration count of a PFX (the MAC's and each
// encryption's, in the clear structure and in the SafeContents nested in
// OCTET STRINGs) and fails with errPFXWork when one is out of range or
// their sum is too large. A structure it cannot parse passes: the decoder
// that follows rejects it. BER input (as Windows writes it) is rewritten
// as DER first.
func checkPFXWork(der []byte) error {
	var pfx struct {
		Version  int
		AuthSafe asn1.RawValue
		MacData  asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(der, &pfx); err != nil {
		converted, _, cerr := berToDER(der, 0)
		if cerr != nil {
			return nil // not PKCS #12: the decoder says so
		}
		if _, err := asn1.Unmarshal(converted, &pfx); err != nil {
			return nil
		}
	}
	total := int64(0)
	add := func(n *big.Int) error {
		if n.Sign() <= 0 || !n.IsInt64() || n.Int64() > maxPFXIterations {
			return errPFXWork
		}
		if total += n.Int64(); total > maxPFXTotalIterations {
			return errPFXWork
		}
		return nil
	}
	if len(pfx.MacData.FullBytes) > 0 {
		var mac struct {
			Mac        asn1.RawValue
			Salt       []byte
			Iterations *big.Int `asn1:"optional"`
		}
		if _, err := asn1.Unmarshal(pfx.MacData.FullBytes, &mac); err == nil && mac.Iterations != nil {
			if err := add(mac.Iterations); err != nil {
				return err
			}
		}
	}
	// PBMAC1 names its PBKDF2 parameters inside the MAC's algorithm
	// identifier; the walk finds them there too.
	if err := walkPBE(pfx.MacData.FullBytes, 0, add); err != nil {
		return err
	}
	return walkPBE(pfx.AuthSafe.FullBytes, 0, add)
}

// walkPBE visits the DER tree of b, descending into constructed values and
// into OCTET STRINGs that hold DER, and calls add with the iteration
// count of every password-based algorithm identifier it meets.
func walkPBE(b []byte, depth int, add func(*big.Int) error) error {
	if depth > 24 {
		return nil
	}
	for len(b) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(b, &v)
		if err != nil {
			return nil
		}
		b = rest
		switch {
		case v.Class == asn1.ClassUniversal && v.Tag == asn1.TagSequence && v.IsCompound:
			if n := pbeIterations(v.Bytes); n != nil {
				if err := add(n); err != nil {
					return err
				}
			}
			if err := walkPBE(v.Bytes, depth+1, add); err != nil {
				return err
			}
		case v.IsCompound:
			if err := walkPBE(v.Bytes, depth+1, add); err != nil {
				return err
			}
		case v.Class == asn1.ClassUniversal && v.Tag == asn1.TagOctetString:
			if err := walkPBE(v.Bytes, depth+1, add); err != nil {
				return err
			}
		}
	}
	return nil
}

// pbeIterations returns the iteration count when seq (the contents of a
// SEQUENCE) is an AlgorithmIdentifier of a password-based scheme.
func pbeIterations(seq []byte) *big.Int {
	var oid asn1.ObjectIdentifier
	rest, err := asn1.Unmarshal(seq, &oid)
	if err != nil {
		return nil
	}
	pkcs12 := len(oid) == len(oidPKCS12PBE)+1 && oid[:len(oidPKCS12PBE)].Equal(oidPKCS12PBE)
	if !pkcs12 && !oid.Equal(oidPBKDF2) && !oid.Equal(oidPBES1MD5) && !oid.Equal(oidPBES1SHA1) {
		return nil
	}
	var params struct {
		Salt       asn1.RawValue
		Iterations *big.Int
	}
	if _, err := asn1.Unmarshal(rest, &params); err != nil || params.Iterations == nil {
		// Unreadable parameters of a scheme that takes a count: treat as
		// out of range rather than let the decoder guess.
		return big.NewInt(-1)
	}
	return params.Iterations
}

// berToDER rewrites the BER forms PKCS #12 files made on Windows use
// (indefinite lengths, constructed OCTET STRINGs) as DER, so that
// checkPFXWork sees the structure the decoder will. It fails on anything
// else it cannot read.
func berToDER(b []byte, depth int) ([]byte, []byte, error) {
	if depth > 32 || len(b) < 2 {
		return nil, nil, errors.New("ber: truncated")
	}
	tagEnd := 1
	if b[0]&0x1f == 0x1f {
		for tagEnd < len(b) && b[tagEnd]&0x80 != 0 {
			tagEnd++
		}
		tagEnd++
	}
	if tagEnd >= len(b) {
		return nil, nil, errors.New("ber: truncated tag")
	}
	tag, constructed := b[:tagEnd], b[0]&0x20 != 0
	lb := b[tagEnd]
	p := tagEnd + 1
	var content []byte
	var rest []byte
	if lb == 0x80 {
		if !constructed {
			return nil, nil, errors.New("ber: indefinite primitive")
		}
		var children []byte
		r := b[p:]
		for {
			if len(r) >= 2 && r[0] == 0 && r[1] == 0 {
				rest = r[2:]
				break
			}
			child, next, err := berToDER(r, depth+1)
			if err != nil {
				return nil, nil, err
			}
			children = append(children, child...)
			r = next
		}
		content = children
	} else {
		n := 0
		if lb&0x80 == 0 {
			n = int(lb)
		} else {
			k := int(lb & 0x7f)
			if k == 0 || k > 4 || p+k > len(b) {
				return nil, nil, errors.New("ber: bad length")
			}
			for _, c := range b[p : p+k] {
				n = n<<8 | int(c)
			}
			p += k
		}
		if n < 0 || p+n > len(b) {
			return nil, nil, errors.New("ber: length beyond input")
		}
		content, rest = b[p:p+n], b[p+n:]
		if constructed {
			var children []byte
			for r := content; len(r) > 0; {
				child, next, err := berToDER(r, depth+1)
				if err != nil {
					return nil, nil, err
				}
				children = append(children, child...)
				r = next
			}
			content = children
		}
	}
	if constructed && len(tag) == 1 && tag[0] == 0x24 { // constructed OCTET STRING: join its chunks
		var joined []byte
		for r := content; len(r) > 0; {
			var v asn1.RawValue
			next, err := asn1.Unmarshal(r, &v)
			if err != nil {
				return nil, nil, err
			}
			joined = append(joined, v.Bytes...)
			r = next
		}
		tag, content = []byte{0x04}, joined
	}
	out := append([]byte(nil), tag...)
	out = append(out, derLength(len(content))...)
	return append(out, content...), rest, nil
}

func derLength(n int) []byte {
	if n < 0x80 {
		return []byte{byte(n)}
	}
	var l []byte
	for v := n; v > 0; v >>= 8 {
		l = append([]byte{byte(v)}, l...)
	}
	return append([]byte{0x80 | byte(len(l))}, l...)
}
