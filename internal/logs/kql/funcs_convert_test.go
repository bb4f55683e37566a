package kql

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
)

// documentedUnits are the "Conversion units" lists of the reference pages.
var documentedUnits = map[string]string{
	"convert_angle": "Arcminute Arcsecond Centiradian Deciradian Degree Gradian Microdegree Microradian Millidegree " +
		"Milliradian Nanodegree Nanoradian NatoMil Radian Revolution Tilt",
	"convert_energy": "BritishThermalUnit Calorie DecathermEc DecathermImperial DecathermUs ElectronVolt Erg FootPound " +
		"GigabritishThermalUnit GigaelectronVolt Gigajoule GigawattDay GigawattHour HorsepowerHour Joule " +
		"KilobritishThermalUnit Kilocalorie KiloelectronVolt Kilojoule KilowattDay KilowattHour MegabritishThermalUnit " +
		"Megacalorie MegaelectronVolt Megajoule MegawattDay MegawattHour Millijoule TeraelectronVolt TerawattDay " +
		"TerawattHour ThermEc ThermImperial ThermUs WattDay WattHour",
	"convert_force": "Decanewton Dyn KilogramForce Kilonewton KiloPond KilopoundForce Meganewton Micronewton " +
		"Millinewton Newton OunceForce Poundal PoundForce ShortTonForce TonneForce",
	"convert_length": "Angstrom AstronomicalUnit Centimeter Chain DataMile Decameter Decimeter DtpPica DtpPoint Fathom " +
		"Foot Hand Hectometer Inch KilolightYear Kilometer Kiloparsec LightYear MegalightYear Megaparsec Meter " +
		"Microinch Micrometer Mil Mile Millimeter Nanometer NauticalMile Parsec PrinterPica PrinterPoint Shackle " +
		"SolarRadius Twip UsSurveyFoot Yard",
	"convert_mass": "Centigram Decagram Decigram EarthMass Grain Gram Hectogram Kilogram Kilopound Kilotonne " +
		"LongHundredweight LongTon Megapound Megatonne Microgram Milligram Nanogram Ounce Pound ShortHundredweight " +
		"ShortTon Slug SolarMass Stone Tonne",
	"convert_speed": "CentimeterPerHour CentimeterPerMinute CentimeterPerSecond DecimeterPerMinute DecimeterPerSecond " +
		"FootPerHour FootPerMinute FootPerSecond InchPerHour InchPerMinute InchPerSecond KilometerPerHour " +
		"KilometerPerMinute KilometerPerSecond Knot MeterPerHour MeterPerMinute MeterPerSecond MicrometerPerMinute " +
		"MicrometerPerSecond MilePerHour MillimeterPerHour MillimeterPerMinute MillimeterPerSecond NanometerPerMinute " +
		"NanometerPerSecond UsSurveyFootPerHour UsSurveyFootPerMinute UsSurveyFootPerSecond YardPerHour " +
		"YardPerMinute YardPerSecond",
	"convert_temperature": "DegreeCelsius DegreeDelisle DegreeFahrenheit DegreeNewton DegreeRankine DegreeReaumur " +
		"DegreeRoemer Kelvin MillidegreeCelsius SolarTemperature",
	"convert_volume": "AcreFoot AuTablespoon BoardFoot Centiliter CubicCentimeter CubicDecimeter CubicFoot " +
		"CubicHectometer CubicInch CubicKilometer CubicMeter CubicMicrometer CubicMile CubicMillimeter CubicYard " +
		"Decaliter DecausGallon Deciliter DeciusGallon HectocubicFoot HectocubicMeter Hectoliter HectousGallon " +
		"ImperialBeerBarrel ImperialGallon ImperialOunce ImperialPint KilocubicFoot KilocubicMeter KiloimperialGallon " +
		"Kiloliter KilousGallon Liter MegacubicFoot MegaimperialGallon Megaliter MegausGallon MetricCup " +
		"MetricTeaspoon Microliter Milliliter OilBarrel UkTablespoon UsBeerBarrel UsCustomaryCup UsGallon UsLegalCup " +
		"UsOunce UsPint UsQuart UsTablespoon UsTeaspoon",
}

var unitTables = map[string]map[string]unit{
	"convert_angle": angleUnits, "convert_energy": energyUnits, "convert_force": forceUnits,
	"convert_length": lengthUnits, "convert_mass": massUnits, "convert_speed": speedUnits,
	"convert_temperature": temperatureUnits, "convert_volume": volumeUnits,
}

func TestConvertUnitNamesAreThePagesLists(t *testing.T) {
	for fn, list := range documentedUnits {
		want := strings.Fields(list)
		var got []string
		for name := range unitTables[fn] {
			got = append(got, name)
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s units\n got %v\nwant %v", fn, got, want)
		}
	}
}

// convertValue runs one conversion through a query.
func convertValue(t *testing.T, fn string, x float64, from, to string) Value {
	t.Helper()
	res := runQuery(t, fmt.Sprintf("print r=%s(%v, '%s', '%s')", fn, x, from, to))
	return cell(t, res, "r")
}

func TestConvertEveryUnitRoundTrips(t *testing.T) {
	base := map[string]string{
		"convert_angle": "Degree", "convert_energy": "Joule", "convert_force": "Newton", "convert_length": "Meter",
		"convert_mass": "Kilogram", "convert_speed": "MeterPerSecond", "convert_temperature": "Kelvin",
		"convert_volume": "CubicMeter",
	}
	for fn, list := range documentedUnits {
		for _, u := range strings.Fields(list) {
			x := 0.3 // within Tilt's domain (a sine)
			there := convertValue(t, fn, x, base[fn], u)
			if there.IsNull() {
				t.Errorf("%s to %s: null", fn, u)
				continue
			}
			back := convertValue(t, fn, there.AsReal(), u, base[fn])
			if math.Abs(back.AsReal()-x) > 1e-9*x {
				t.Errorf("%s: %v %s -> %v %s -> %v", fn, x, base[fn], there.AsReal(), u, back.AsReal())
			}
		}
	}
}

func TestConvertKnownEquivalences(t *testing.T) {
	for _, c := range []struct {
		fn       string
		x        float64
		from, to string
		want     float64
	}{
		{"convert_angle", 1, "Revolution", "Degree", 360},
		{"convert_angle", math.Pi, "Radian", "Degree", 180},
		{"convert_angle", 100, "Gradian", "Degree", 90},
		{"convert_angle", 30, "Degree", "Tilt", 0.5},
		{"convert_angle", 1, "Degree", "Millidegree", 1000},
		{"convert_energy", 1, "KilowattHour", "Joule", 3.6e6},
		{"convert_energy", 1, "Kilocalorie", "Calorie", 1000},
		{"convert_energy", 1, "DecathermUs", "ThermUs", 10},
		{"convert_force", 1, "Kilonewton", "Newton", 1000},
		{"convert_force", 1, "KilopoundForce", "PoundForce", 1000},
		{"convert_length", 1, "Mile", "Meter", 1609.34},
		{"convert_length", 1, "Foot", "Inch", 12},
		{"convert_length", 1, "Kiloparsec", "Parsec", 1000},
		{"convert_mass", 1, "Tonne", "Kilogram", 1000},
		{"convert_mass", 1, "Kilogram", "Gram", 1000},
		{"convert_mass", 1, "Megapound", "Pound", 1e6},
		{"convert_speed", 36, "KilometerPerHour", "MeterPerSecond", 10},
		{"convert_speed", 1, "FootPerSecond", "FootPerMinute", 60},
		{"convert_speed", 1, "UsSurveyFootPerHour", "MeterPerHour", 1200.0 / 3937},
		{"convert_temperature", 100, "DegreeCelsius", "DegreeFahrenheit", 212},
		{"convert_temperature", 0, "DegreeCelsius", "Kelvin", 273.15},
		{"convert_temperature", 25, "DegreeCelsius", "MillidegreeCelsius", 25000},
		{"convert_temperature", 491.67, "DegreeRankine", "DegreeCelsius", 0},
		{"convert_temperature", 0, "DegreeCelsius", "DegreeDelisle", 150},
		{"convert_temperature", 100, "DegreeCelsius", "DegreeRoemer", 60},
		{"convert_volume", 1, "CubicMeter", "Liter", 1000},
		{"convert_volume", 1, "KilousGallon", "UsGallon", 1000},
		{"convert_volume", 1, "HectocubicFoot", "CubicFoot", 100},
		{"convert_volume", 2, "UsPint", "UsQuart", 1},
	} {
		got := convertValue(t, c.fn, c.x, c.from, c.to)
		if got.IsNull() || math.Abs(got.AsReal()-c.want) > 1e-9*math.Max(1, math.Abs(c.want)) {
			t.Errorf("%s(%v, %s, %s) = %s, want %v", c.fn, c.x, c.from, c.to, got.Text(), c.want)
		}
	}
}

func TestConvertInvalidUnitsAndValues(t *testing.T) {
	for _, q := range []string{
		"print r=convert_length(1, 'Meter', 'Furlong')", // not a listed unit
		"print r=convert_length(1, 'meter', 'Foot')",    // names as the pages spell them
		"print r=convert_length(1, 'Meter', 'Degree')",  // another quantity's unit
		"print r=convert_mass(real(null), 'Gram', 'Kilogram')",
		"print r=convert_speed(1, '', 'Knot')",
	} {
		if res := runQuery(t, q); !cell(t, res, "r").IsNull() {
			t.Errorf("%s: %s, want null", q, cell(t, res, "r").Text())
		}
	}
	if _, err := Run(context.Background(), "print r=convert_angle(1, 'Degree')", Options{}); err == nil {
		t.Error("two arguments: want an error")
	}
	if _, err := Run(context.Background(), "print r=convert_angle(datetime(2024-01-01), 'Degree', 'Radian')", Options{}); err == nil {
		t.Error("a datetime value: want an error")
	}
	// a whole column converts, units from columns too
	res := runQuery(t, "datatable(v:long, u:string)[1, 'Meter', 2, 'Kilometer'] | extend f=convert_length(v, u, 'Centimeter') | summarize s=sum(f)")
	if s := cell(t, res, "s").AsReal(); s != 200100 {
		t.Errorf("sum %v, want 200100", s)
	}
}
