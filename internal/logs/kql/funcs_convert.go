package kql

import "math"

// The convert_* functions turn a value from one unit of a quantity into
// another. Kusto's unit names are those of the UnitsNet library (release
// 4.135, whose unit lists match the reference pages name for name), and so
// are the factors below: each unit is defined by how a value in it becomes
// a value in the quantity's base unit, base = x*mul/div + add, and back.
// The factors are kept as UnitsNet writes them (x / 0.000810714 for an
// acre-foot, not the exact 1233.48...) so results match Kusto's to the
// last digit the reference pages show. Names are matched exactly as the
// pages spell them; any other name gives null, as the pages say.

// unit is one unit's affine map to its quantity's base unit.
type unit struct {
	mul, div, add float64
	// nonlinear replaces the affine map (tilt, the sine of an angle)
	toBase, fromBase func(float64) float64
}

func (u unit) to(x float64) float64 {
	if u.toBase != nil {
		return u.toBase(x)
	}
	return x*u.mul/u.div + u.add
}

func (u unit) from(x float64) float64 {
	if u.fromBase != nil {
		return u.fromBase(x)
	}
	return (x - u.add) * u.div / u.mul
}

// times and per build the common units: x*f, and x/f.
func times(f float64) unit { return unit{mul: f, div: 1} }
func per(f float64) unit   { return unit{mul: 1, div: f} }

// withPrefixes adds to t the SI-prefixed forms of a unit, named
// prefix+lowercased name (Kilo + Meter = Kilometer), as UnitsNet does.
func withPrefixes(t map[string]unit, name string, u unit, prefixes ...string) {
	t[name] = u
	scale := map[string]float64{"Nano": 1e-9, "Micro": 1e-6, "Milli": 1e-3, "Centi": 1e-2, "Deci": 1e-1,
		"Deca": 1e1, "Hecto": 1e2, "Kilo": 1e3, "Mega": 1e6, "Giga": 1e9, "Tera": 1e12}
	for _, p := range prefixes {
		pu := u
		pu.mul *= scale[p]
		t[p+string(name[0]+'a'-'A')+name[1:]] = pu
	}
}

var angleUnits = func() map[string]unit {
	t := map[string]unit{
		"Arcminute": per(60), "Arcsecond": per(3600), "Gradian": times(0.9),
		"NatoMil": {mul: 9, div: 160}, "Revolution": times(360),
		"Tilt": {toBase: func(x float64) float64 { return math.Asin(x) * 180 / math.Pi },
			fromBase: func(x float64) float64 { return math.Sin(x / 180 * math.Pi) }},
	}
	withPrefixes(t, "Degree", times(1), "Nano", "Micro", "Milli")
	withPrefixes(t, "Radian", unit{mul: 180, div: math.Pi}, "Nano", "Micro", "Milli", "Centi", "Deci")
	return t
}()

var energyUnits = func() map[string]unit {
	t := map[string]unit{
		"Erg": times(1e-7), "FootPound": times(1.355817948), "HorsepowerHour": times(2.6845195377e6),
	}
	withPrefixes(t, "ThermEc", times(1.05505585262e8), "Deca")
	withPrefixes(t, "ThermImperial", times(1.05505585257348e8), "Deca")
	withPrefixes(t, "ThermUs", times(1.054804e8), "Deca")
	withPrefixes(t, "BritishThermalUnit", times(1055.05585262), "Kilo", "Mega", "Giga")
	withPrefixes(t, "Calorie", times(4.184), "Kilo", "Mega")
	withPrefixes(t, "ElectronVolt", times(1.602176565e-19), "Kilo", "Mega", "Giga", "Tera")
	withPrefixes(t, "Joule", times(1), "Milli", "Kilo", "Mega", "Giga")
	withPrefixes(t, "WattDay", times(24*3600), "Kilo", "Mega", "Giga", "Tera")
	withPrefixes(t, "WattHour", times(3600), "Kilo", "Mega", "Giga", "Tera")
	return t
}()

var forceUnits = func() map[string]unit {
	const lbf = 4.4482216152605095551842641431421
	t := map[string]unit{
		"Dyn": per(1e5), "KilogramForce": times(9.80665002864), "KiloPond": times(9.80665002864),
		"OunceForce": times(2.780138509537812e-1), "Poundal": times(0.13825502798973041652092282466083),
		"ShortTonForce": times(8.896443230521e3), "TonneForce": times(9.80665002864e3),
	}
	withPrefixes(t, "Newton", times(1), "Micro", "Milli", "Deca", "Kilo", "Mega")
	withPrefixes(t, "PoundForce", times(lbf), "Kilo")
	return t
}()

var lengthUnits = func() map[string]unit {
	t := map[string]unit{
		"Angstrom": times(1e-10), "AstronomicalUnit": times(1.4959787070e11), "Chain": times(20.1168),
		"DataMile": times(1828.8), "DtpPica": per(236.220472441), "DtpPoint": {mul: 2.54e-2, div: 72},
		"Fathom": times(1.8288), "Foot": times(0.3048), "Hand": times(1.016e-1), "Inch": times(2.54e-2),
		"Microinch": times(2.54e-8), "Mil": times(2.54e-5), "Mile": times(1609.34), "NauticalMile": times(1852),
		"PrinterPica": per(237.106301584), "PrinterPoint": {mul: 2.54e-2, div: 72.27}, "Shackle": times(27.432),
		"SolarRadius": times(6.95510000e+08), "Twip": per(56692.913385826), "UsSurveyFoot": {mul: 1200, div: 3937},
		"Yard": times(0.9144),
	}
	withPrefixes(t, "Meter", times(1), "Nano", "Micro", "Milli", "Centi", "Deci", "Deca", "Hecto", "Kilo")
	withPrefixes(t, "LightYear", times(9.46073047258e15), "Kilo", "Mega")
	withPrefixes(t, "Parsec", times(3.08567758128e16), "Kilo", "Mega")
	return t
}()

var massUnits = func() map[string]unit {
	t := map[string]unit{
		"EarthMass": times(5.9722e+24), "Grain": per(15432.358352941431),
		"LongHundredweight": per(0.01968413055222121), "LongTon": times(1.0160469088e3), "Ounce": per(35.2739619),
		"ShortHundredweight": per(0.022046226218487758), "ShortTon": times(9.0718474e2),
		"Slug": per(6.852176556196105e-2), "SolarMass": times(1.98947e30), "Stone": per(0.1574731728702698),
	}
	withPrefixes(t, "Gram", per(1e3), "Nano", "Micro", "Milli", "Centi", "Deci", "Deca", "Hecto", "Kilo")
	withPrefixes(t, "Pound", times(0.45359237), "Kilo", "Mega")
	withPrefixes(t, "Tonne", times(1e3), "Kilo", "Mega")
	return t
}()

var speedUnits = func() map[string]unit {
	const ft, in, yd, usft = 0.3048, 2.54e-2, 0.9144, 1200.0 / 3937
	t := map[string]unit{"Knot": times(0.514444), "MilePerHour": times(0.44704)}
	withPrefixes(t, "MeterPerSecond", times(1), "Nano", "Micro", "Milli", "Centi", "Deci", "Kilo")
	withPrefixes(t, "MeterPerMinute", per(60), "Nano", "Micro", "Milli", "Centi", "Deci", "Kilo")
	withPrefixes(t, "MeterPerHour", per(3600), "Milli", "Centi", "Kilo")
	for name, f := range map[string]float64{"Foot": ft, "Inch": in, "Yard": yd, "UsSurveyFoot": usft} {
		t[name+"PerSecond"] = times(f)
		t[name+"PerMinute"] = unit{mul: f, div: 60}
		t[name+"PerHour"] = unit{mul: f, div: 3600}
	}
	return t
}()

var temperatureUnits = map[string]unit{
	"DegreeCelsius":      {mul: 1, div: 1, add: 273.15},
	"DegreeDelisle":      {mul: -2, div: 3, add: 373.15},
	"DegreeFahrenheit":   {mul: 5, div: 9, add: 459.67 * 5 / 9},
	"DegreeNewton":       {mul: 100, div: 33, add: 273.15},
	"DegreeRankine":      {mul: 5, div: 9},
	"DegreeReaumur":      {mul: 5, div: 4, add: 273.15},
	"DegreeRoemer":       {mul: 40, div: 21, add: 273.15 - 7.5*40.0/21},
	"Kelvin":             times(1),
	"MillidegreeCelsius": {mul: 1, div: 1000, add: 273.15},
	"SolarTemperature":   times(5778),
}

var volumeUnits = func() map[string]unit {
	t := map[string]unit{
		"AcreFoot": per(0.000810714), "AuTablespoon": times(2e-5), "BoardFoot": times(2.3597372158e-3),
		"CubicCentimeter": per(1e6), "CubicDecimeter": per(1e3), "CubicHectometer": times(1e6),
		"CubicInch": times(1.6387 * 1e-5), "CubicKilometer": times(1e9), "CubicMicrometer": per(1e18),
		"CubicMile": times(4.16818182544058e9), "CubicMillimeter": per(1e9), "CubicYard": times(0.764554858),
		"ImperialBeerBarrel": times(0.16365924), "ImperialOunce": times(2.8413062499962901241875439064617e-5),
		"ImperialPint": times(5.6826125e-4), "MetricCup": times(0.00025), "MetricTeaspoon": times(0.5e-5),
		"OilBarrel": times(0.158987294928), "UkTablespoon": times(1.5e-5), "UsBeerBarrel": times(0.1173477658),
		"UsCustomaryCup": times(0.0002365882365), "UsLegalCup": times(0.00024),
		"UsOunce": times(2.957352956253760505068307980135e-5), "UsPint": times(4.73176473e-4),
		"UsQuart": times(9.46352946e-4), "UsTablespoon": times(1.478676478125e-5), "UsTeaspoon": times(4.92892159375e-6),
	}
	withPrefixes(t, "CubicMeter", times(1), "Hecto", "Kilo")
	withPrefixes(t, "CubicFoot", times(2.8316846592e-2), "Hecto", "Kilo", "Mega")
	withPrefixes(t, "Liter", per(1e3), "Micro", "Milli", "Centi", "Deci", "Deca", "Hecto", "Kilo", "Mega")
	withPrefixes(t, "ImperialGallon", times(0.00454609000000181429905810072407), "Kilo", "Mega")
	withPrefixes(t, "UsGallon", times(0.00378541), "Deci", "Deca", "Hecto", "Kilo", "Mega")
	return t
}()

// convertFn is convert_<quantity>(value, from, to) over one unit table.
func convertFn(units map[string]unit) fnImpl {
	typ := func(a []cexpr) (Type, bool) {
		num := a[0].t.isNumeric() || a[0].t == TypeDynamic || a[0].t == TypeUnknown
		strs := true
		for _, x := range a[1:] {
			strs = strs && (x.t == TypeString || x.t == TypeDynamic || x.t == TypeUnknown)
		}
		return TypeReal, num && strs
	}
	return fixed(3, 3, typ, func(_ Type, v []Value) Value {
		x := scalarOf(v[0])
		from, ok1 := units[str(v, 1)]
		to, ok2 := units[str(v, 2)]
		if x.IsNull() || !x.T.isNumeric() || !ok1 || !ok2 {
			return Null(TypeReal)
		}
		return Real(to.from(from.to(x.AsReal())))
	})
}

func init() {
	register(convertFn(angleUnits), "convert_angle")
	register(convertFn(energyUnits), "convert_energy")
	register(convertFn(forceUnits), "convert_force")
	register(convertFn(lengthUnits), "convert_length")
	register(convertFn(massUnits), "convert_mass")
	register(convertFn(speedUnits), "convert_speed")
	register(convertFn(temperatureUnits), "convert_temperature")
	register(convertFn(volumeUnits), "convert_volume")
}
