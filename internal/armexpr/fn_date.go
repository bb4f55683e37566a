package armexpr

import (
	"time"
)

// utcNowFormat is the default format of utcNow() in Azure Policy, which
// differs from the one template deployments document (yyyyMMddTHHmmssZ).
const utcNowFormat = "yyyy-MM-ddTHH:mm:ss.fffffffZ"

func init() {
	register("utcNow", 0, 1, func(ec *EvalContext, a []any) (any, error) {
		format := utcNowFormat
		if len(a) == 1 {
			s, err := argString("utcNow", a, 0)
			if err != nil {
				return nil, err
			}
			format = s
		}
		return formatDateTime(dateTime{t: ec.now(), zone: zoneUTC}, format)
	})
	register("addDays", 2, 2, func(_ *EvalContext, a []any) (any, error) {
		d, err := parseDateArg("addDays", a, 0)
		if err != nil {
			return nil, err
		}
		n, err := argInt("addDays", a, 1)
		if err != nil {
			return nil, err
		}
		if n > 3660000 || n < -3660000 {
			return nil, errorf(CodeInvalidArgument, "the number of days %d given to 'addDays' is out of range", n)
		}
		d.t = d.t.AddDate(0, 0, int(n))
		return d.String(), nil
	})
	register("dateTimeAdd", 2, 3, func(_ *EvalContext, a []any) (any, error) {
		d, err := parseDateArg("dateTimeAdd", a, 0)
		if err != nil {
			return nil, err
		}
		ds, err := argString("dateTimeAdd", a, 1)
		if err != nil {
			return nil, err
		}
		dur, ok := parseDuration(ds)
		if !ok {
			return nil, errorf(CodeInvalidArgument, "the template function 'dateTimeAdd' could not parse %q as an ISO 8601 duration", ds)
		}
		d.t = d.t.Add(dur)
		if len(a) == 3 {
			f, err := argString("dateTimeAdd", a, 2)
			if err != nil {
				return nil, err
			}
			return formatDateTime(d, f)
		}
		return d.String(), nil
	})
	register("dateTimeFromEpoch", 1, 1, func(_ *EvalContext, a []any) (any, error) {
		n, err := argInt("dateTimeFromEpoch", a, 0)
		if err != nil {
			return nil, err
		}
		if n < -62135596800 || n > 253402300799 {
			return nil, errorf(CodeInvalidArgument, "the epoch time %d given to 'dateTimeFromEpoch' is out of range", n)
		}
		return dateTime{t: time.Unix(n, 0).UTC(), zone: zoneUTC}.String(), nil
	})
	register("dateTimeToEpoch", 1, 1, func(_ *EvalContext, a []any) (any, error) {
		d, err := parseDateArg("dateTimeToEpoch", a, 0)
		if err != nil {
			return nil, err
		}
		return d.t.Unix(), nil
	})
}
