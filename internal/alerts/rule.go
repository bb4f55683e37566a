package alerts

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/logs/kql"
)

// Resource types this package gives behaviour to.
const (
	TypeScheduledQueryRule = "Microsoft.Insights/scheduledQueryRules"
	TypeActionGroup        = "Microsoft.Insights/actionGroups"
	TypeAlert              = "Microsoft.AlertsManagement/alerts"
	TypeWorkspace          = "Microsoft.OperationalInsights/workspaces"
)

// Operators and aggregations of a log alert condition.
const (
	OpEquals             = "Equals"
	OpGreaterThan        = "GreaterThan"
	OpGreaterThanOrEqual = "GreaterThanOrEqual"
	OpLessThan           = "LessThan"
	OpLessThanOrEqual    = "LessThanOrEqual"

	AggCount   = "Count"
	AggAverage = "Average"
	AggMinimum = "Minimum"
	AggMaximum = "Maximum"
	AggTotal   = "Total"
)

var (
	operators    = []string{OpEquals, OpGreaterThan, OpGreaterThanOrEqual, OpLessThan, OpLessThanOrEqual}
	aggregations = []string{AggCount, AggAverage, AggMinimum, AggMaximum, AggTotal}
	// The granularities the service accepts, in minutes (it names them in
	// its error: "Supported granularities are: ...").
	frequencies = []int{1, 5, 10, 15, 30, 45, 60, 120, 180, 240, 300, 360, 1440}
	windows     = []int{1, 5, 10, 15, 30, 45, 60, 120, 180, 240, 300, 360, 1440, 2880}
)

// Limits of a rule, as Azure Monitor documents them.
const (
	maxDimensions        = 6
	maxEvaluationPeriods = 6
	maxDescription       = 4096
	maxQueryTimeRange    = 48 * time.Hour
	maxRuleBytes         = 64 << 10
)

// ruleDoc is the wire form of a scheduled query rule (2021-08-01 and
// 2023-03-15-preview).
type ruleDoc struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Location   string            `json:"location"`
	Kind       string            `json:"kind"`
	Tags       map[string]string `json:"tags"`
	Properties struct {
		DisplayName            string         `json:"displayName"`
		Description            string         `json:"description"`
		Severity               *int           `json:"severity"`
		Enabled                *bool          `json:"enabled"`
		Scopes                 []string       `json:"scopes"`
		EvaluationFrequency    string         `json:"evaluationFrequency"`
		WindowSize             string         `json:"windowSize"`
		OverrideQueryTimeRange string         `json:"overrideQueryTimeRange"`
		TargetResourceTypes    []string       `json:"targetResourceTypes"`
		Criteria               *criteriaDoc   `json:"criteria"`
		MuteActionsDuration    string         `json:"muteActionsDuration"`
		Actions                *actionsDoc    `json:"actions"`
		AutoMitigate           *bool          `json:"autoMitigate"`
		SkipQueryValidation    bool           `json:"skipQueryValidation"`
		RuleResolveConfig      *resolveConfig `json:"ruleResolveConfiguration"`
	} `json:"properties"`
}

type criteriaDoc struct {
	AllOf []conditionDoc `json:"allOf"`
}

type conditionDoc struct {
	Query               string         `json:"query"`
	TimeAggregation     string         `json:"timeAggregation"`
	MetricMeasureColumn string         `json:"metricMeasureColumn"`
	ResourceIDColumn    string         `json:"resourceIdColumn"`
	Dimensions          []Dimension    `json:"dimensions"`
	Operator            string         `json:"operator"`
	Threshold           *float64       `json:"threshold"`
	FailingPeriods      *failingPeriod `json:"failingPeriods"`
	MetricName          string         `json:"metricName"`
}

type failingPeriod struct {
	NumberOfEvaluationPeriods *int `json:"numberOfEvaluationPeriods"`
	MinFailingPeriodsToAlert  *int `json:"minFailingPeriodsToAlert"`
}

type actionsDoc struct {
	ActionGroups     []string          `json:"actionGroups"`
	CustomProperties map[string]string `json:"customProperties"`
}

type resolveConfig struct {
	AutoResolved  *bool  `json:"autoResolved"`
	TimeToResolve string `json:"timeToResolve"`
}

// Dimension splits a rule's results by a column: Include or Exclude the
// listed values, "*" meaning every value (also those seen later).
type Dimension struct {
	Name     string   `json:"name"`
	Operator string   `json:"operator"`
	Values   []string `json:"values"`
}

// Rule is a validated log search alert rule, ready to evaluate.
type Rule struct {
	ID, Name, Description string
	Severity              int
	Enabled               bool
	// Scopes are the workspaces the query runs on.
	Scopes []string
	// Frequency is how often the rule runs; Window the aggregation
	// granularity; Range the query's time range.
	Frequency, Window, Range time.Duration
	Query                    string
	Aggregation              string
	MeasureColumn            string
	ResourceIDColumn         string
	Dimensions               []Dimension
	Operator                 string
	Threshold                float64
	// Periods and MinFailing are failingPeriods: fire when at least
	// MinFailing of the last Periods bins violate.
	Periods, MinFailing int
	// Stateful rules (autoMitigate, the default) fire once and resolve;
	// stateless ones fire on every violating evaluation.
	Stateful bool
	// ResolveAfter is how long the condition must stay unmet before a
	// stateful alert resolves; zero never resolves automatically.
	ResolveAfter time.Duration
	// Mute suppresses actions for this long after a stateless rule fires.
	Mute             time.Duration
	ActionGroups     []string
	CustomProperties map[string]string
}

// ParseRule validates a scheduled query rule document as the service does
// at PUT, and returns the rule. Errors are *arm.Error (400).
func ParseRule(id string, body []byte) (*Rule, error) {
	if len(body) > maxRuleBytes {
		return nil, invalid("The rule's properties are %d bytes; the limit is 64 KB.", len(body))
	}
	var d ruleDoc
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, arm.BadRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: %v", err)
	}
	p := d.Properties
	r := &Rule{ID: id, Name: lastSegment(id), Description: p.Description, Enabled: true, Stateful: true,
		CustomProperties: map[string]string{}}
	if d.Kind != "" && !strings.EqualFold(d.Kind, "LogAlert") {
		return nil, invalid("Rule kind '%s' is not supported: Steward evaluates LogAlert rules.", d.Kind)
	}
	if len(p.Description) > maxDescription {
		return nil, invalid("The description may be at most %d characters.", maxDescription)
	}
	if p.Severity != nil {
		if *p.Severity < 0 || *p.Severity > 4 {
			return nil, invalid("Severity must be between 0 and 4.")
		}
		r.Severity = *p.Severity
	} else {
		return nil, invalid("The property 'severity' is required.")
	}
	if p.Enabled == nil {
		return nil, invalid("The property 'enabled' is required.")
	}
	r.Enabled = *p.Enabled
	if len(p.Scopes) != 1 {
		return nil, invalid("A log search alert rule has exactly one scope; %d were given.", len(p.Scopes))
	}
	for _, s := range p.Scopes {
		rid, err := arm.ParseResourceID(s)
		if err != nil || !strings.EqualFold(rid.ResourceType(), TypeWorkspace) {
			return nil, invalid("Scope '%s' is not supported: Steward evaluates rules scoped to a Log Analytics workspace (%s).", s, TypeWorkspace)
		}
		r.Scopes = append(r.Scopes, s)
	}
	var err error
	if r.Frequency, err = granularity("evaluationFrequency", p.EvaluationFrequency, frequencies); err != nil {
		return nil, err
	}
	if r.Window, err = granularity("windowSize", p.WindowSize, windows); err != nil {
		return nil, err
	}
	if p.Criteria == nil || len(p.Criteria.AllOf) != 1 {
		return nil, invalid("criteria.allOf must hold exactly one condition.")
	}
	if err := r.condition(p.Criteria.AllOf[0], p.SkipQueryValidation); err != nil {
		return nil, err
	}
	r.Range = r.Window * time.Duration(r.Periods)
	if p.OverrideQueryTimeRange != "" {
		if r.Range, err = ParseDuration(p.OverrideQueryTimeRange); err != nil {
			return nil, invalid("overrideQueryTimeRange: %v", err)
		}
		if r.Range < r.Window*time.Duration(r.Periods) {
			return nil, invalid("overrideQueryTimeRange must be at least windowSize × numberOfEvaluationPeriods (%s).", FormatDuration(r.Window*time.Duration(r.Periods)))
		}
	}
	if r.Range > maxQueryTimeRange {
		return nil, invalid("The query time range may be at most 2 days.")
	}
	if p.AutoMitigate != nil {
		r.Stateful = *p.AutoMitigate
	}
	if p.MuteActionsDuration != "" {
		if r.Mute, err = ParseDuration(p.MuteActionsDuration); err != nil {
			return nil, invalid("muteActionsDuration: %v", err)
		}
		if r.Stateful && r.Mute > 0 {
			return nil, invalid("Auto mitigation must be disabled when action suppression is set.")
		}
		if r.Mute > 0 && r.Frequency > r.Mute {
			return nil, invalid("EvaluationFrequency cannot be greater than MuteActionsDuration.")
		}
	}
	r.ResolveAfter = resolveAfter(r.Frequency)
	if rc := p.RuleResolveConfig; rc != nil {
		if rc.AutoResolved != nil && !*rc.AutoResolved {
			r.ResolveAfter = 0
		}
		if rc.TimeToResolve != "" {
			if r.ResolveAfter, err = ParseDuration(rc.TimeToResolve); err != nil {
				return nil, invalid("ruleResolveConfiguration.timeToResolve: %v", err)
			}
		}
	}
	if p.Actions != nil {
		for _, g := range p.Actions.ActionGroups {
			rid, err := arm.ParseResourceID(g)
			if err != nil || !strings.EqualFold(rid.ResourceType(), TypeActionGroup) {
				return nil, invalid("'%s' is not an action group resource ID.", g)
			}
			r.ActionGroups = append(r.ActionGroups, g)
		}
		for k, v := range p.Actions.CustomProperties {
			r.CustomProperties[k] = v
		}
	}
	return r, nil
}

func (r *Rule) condition(c conditionDoc, skipValidation bool) error {
	if strings.TrimSpace(c.Query) == "" {
		return invalid("The condition's query is required.")
	}
	if !skipValidation {
		q, err := kql.Parse(c.Query)
		if err != nil {
			return arm.BadRequest("BadRequest", "The query of the condition is invalid: %v", err)
		}
		if q.SeveralTables() {
			return arm.BadRequest("BadRequest", "The query of the condition is invalid: it returns several result tables, and a log search alert reads one.")
		}
	}
	r.Query = c.Query
	if c.TimeAggregation == "" {
		return invalid("The condition's timeAggregation is required.")
	}
	agg, ok := oneOf(c.TimeAggregation, aggregations)
	if !ok {
		return invalid("timeAggregation '%s' is not one of %s.", c.TimeAggregation, strings.Join(aggregations, ", "))
	}
	r.Aggregation = agg
	if agg != AggCount && c.MetricMeasureColumn == "" {
		return invalid("metricMeasureColumn is required when timeAggregation is %s.", agg)
	}
	r.MeasureColumn = c.MetricMeasureColumn
	if !strings.EqualFold(c.ResourceIDColumn, "null") {
		r.ResourceIDColumn = c.ResourceIDColumn
	}
	op, ok := oneOf(c.Operator, operators)
	if !ok {
		return invalid("operator '%s' is not one of %s.", c.Operator, strings.Join(operators, ", "))
	}
	r.Operator = op
	if c.Threshold == nil {
		return invalid("The condition's threshold is required.")
	}
	r.Threshold = *c.Threshold
	if len(c.Dimensions) > maxDimensions {
		return invalid("A condition may split by at most %d dimensions.", maxDimensions)
	}
	for _, d := range c.Dimensions {
		if d.Name == "" {
			return invalid("A dimension needs a name.")
		}
		dop, ok := oneOf(d.Operator, []string{"Include", "Exclude"})
		if !ok {
			return invalid("Dimension '%s': operator must be Include or Exclude.", d.Name)
		}
		if len(d.Values) == 0 {
			return invalid("Dimension '%s' needs at least one value (\"*\" for all).", d.Name)
		}
		d.Operator = dop
		r.Dimensions = append(r.Dimensions, d)
	}
	r.Periods, r.MinFailing = 1, 1
	if fp := c.FailingPeriods; fp != nil {
		if fp.NumberOfEvaluationPeriods != nil {
			r.Periods = *fp.NumberOfEvaluationPeriods
		}
		if fp.MinFailingPeriodsToAlert != nil {
			r.MinFailing = *fp.MinFailingPeriodsToAlert
		}
	}
	if r.Periods < 1 || r.Periods > maxEvaluationPeriods {
		return invalid("numberOfEvaluationPeriods must be between 1 and %d.", maxEvaluationPeriods)
	}
	if r.MinFailing < 1 || r.MinFailing > r.Periods {
		return invalid("minFailingPeriodsToAlert must be between 1 and numberOfEvaluationPeriods (%d).", r.Periods)
	}
	return nil
}

// resolveAfter is how long a log alert's condition must stay unmet before
// it resolves, by the rule's frequency (Azure Monitor: 1 minute -> 10
// minutes; 5 to 15 minutes -> 3 periods; 15 minutes to 11 hours -> 2
// periods; 11 to 12 hours and more -> 1 period).
func resolveAfter(freq time.Duration) time.Duration {
	switch {
	case freq <= time.Minute:
		return 10 * time.Minute
	case freq <= 15*time.Minute:
		return 3 * freq
	case freq < 11*time.Hour:
		return 2 * freq
	default:
		return freq
	}
}

func granularity(name, s string, allowed []int) (time.Duration, error) {
	if s == "" {
		return 0, invalid("The property '%s' is required.", name)
	}
	d, err := ParseDuration(s)
	if err != nil {
		return 0, invalid("%s: %v", name, err)
	}
	if d%time.Minute != 0 || !slices.Contains(allowed, int(d/time.Minute)) {
		return 0, invalid("%s '%s' is not supported. Supported granularities are: %s.", name, s, joinInts(allowed))
	}
	return d, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

func oneOf(s string, allowed []string) (string, bool) {
	for _, a := range allowed {
		if strings.EqualFold(s, a) {
			return a, true
		}
	}
	return "", false
}

func invalid(format string, args ...any) *arm.Error {
	return arm.Errorf(http.StatusBadRequest, "BadRequest", format, args...)
}

func lastSegment(id string) string { return id[strings.LastIndexByte(id, '/')+1:] }
