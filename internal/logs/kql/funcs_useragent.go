package kql

import (
	"strings"
	"sync"

	"github.com/ua-parser/uap-go/uaparser"
)

// parse_user_agent(ua, look-for) reads a user-agent string with the
// ua-parser project's regular expressions (uap-core, the set Kusto's
// implementation is built on: its documented examples, "AdobeAIR 2.5.1",
// "Nokia OSS Browser 3.1" on "Symbian OS 9.2", device "Nokia N81", are
// uap-core's families). look-for is "browser", "os" or "device", or a
// dynamic array of them; the result bag has a Browser, OperatingSystem
// and Device member for each, in the documented field order, with "" for
// a version part the string does not give.

// uaParser compiles the expressions once, on first use (a few hundred
// regular expressions: not paid by queries that do not need them).
var uaParser = sync.OnceValues(func() (*uaparser.Parser, error) {
	return uaparser.New(uaparser.WithCacheSize(4096))
})

// uaTargets reads the look-for argument; ok is false for anything but the
// three documented targets.
func uaTargets(v Value) (browser, os, device, ok bool) {
	var names []string
	s := scalarOf(v)
	switch {
	case s.T == TypeString:
		names = []string{s.s}
	case s.T == TypeDynamic && !s.IsNull():
		arr, isArr := s.d.([]any)
		if !isArr || len(arr) == 0 {
			return false, false, false, false
		}
		for _, x := range arr {
			n, isStr := x.(string)
			if !isStr {
				return false, false, false, false
			}
			names = append(names, n)
		}
	default:
		return false, false, false, false
	}
	for _, n := range names {
		switch strings.ToLower(n) {
		case "browser":
			browser = true
		case "os":
			os = true
		case "device":
			device = true
		default:
			return false, false, false, false
		}
	}
	return browser, os, device, true
}

// stringBag is a bag of string members, keys and values alternating.
func stringBag(kv ...string) *Bag {
	b := NewBag()
	for i := 0; i+1 < len(kv); i += 2 {
		b.Set(kv[i], kv[i+1])
	}
	return b
}

func parseUserAgent(p *uaparser.Parser, ua string, browser, os, device bool) *Bag {
	out := NewBag()
	if browser {
		u := p.ParseUserAgent(ua)
		out.Set("Browser", stringBag("Family", u.Family, "MajorVersion", u.Major, "MinorVersion", u.Minor, "Patch", u.Patch))
	}
	if os {
		o := p.ParseOs(ua)
		out.Set("OperatingSystem", stringBag("Family", o.Family, "MajorVersion", o.Major, "MinorVersion", o.Minor,
			"Patch", o.Patch, "PatchMinor", o.PatchMinor))
	}
	if device {
		d := p.ParseDevice(ua)
		out.Set("Device", stringBag("Family", d.Family, "Brand", d.Brand, "Model", d.Model))
	}
	return out
}

func init() {
	register(func(call *Call, args []cexpr) (cexpr, error) {
		if len(args) != 2 {
			return cexpr{}, errAt(call, "parse_user_agent takes 2 argument(s), got %d", len(args))
		}
		if t := concreteType(args[0].t); t != TypeString && t != TypeDynamic && t != TypeUnknown {
			return cexpr{}, errAt(call, "parse_user_agent: the user-agent must be a string, got %s", t)
		}
		if t := concreteType(args[1].t); t != TypeString && t != TypeDynamic {
			return cexpr{}, errAt(call, "parse_user_agent: look-for must be a string or a dynamic array, got %s", t)
		}
		if v, ok := constArg(args[1]); ok {
			if _, _, _, valid := uaTargets(v); !valid {
				return cexpr{}, errAt(call, `parse_user_agent: look-for must be "browser", "os", "device" or an array of them`)
			}
		}
		p, err := uaParser()
		if err != nil {
			return cexpr{}, errAt(call, "parse_user_agent: %v", err)
		}
		return evalN(TypeDynamic, args, func(_ Type, v []Value) Value {
			s := scalarOf(v[0])
			b, o, d, ok := uaTargets(v[1])
			if s.T != TypeString || !ok {
				return Null(TypeDynamic)
			}
			return Dynamic(parseUserAgent(p, s.s, b, o, d))
		}), nil
	}, "parse_user_agent")
}
