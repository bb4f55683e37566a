package kql

import "strings"

// Scan is the scan operator: rows are matched against a sequence of steps
// (Kusto's documented state machine, see compileScan), and each match is
// output with the declared variables set by the step's assignments.
type Scan struct {
	At      Pos
	MatchID string // with_match_id column, "" for none
	Declare []Param
	Steps   []ScanStep
}

// ScanStep is "step name [output=all|last|none]: condition => assignments;".
type ScanStep struct {
	Name    string
	Output  string // "all" (the default when empty), "last" or "none"
	Cond    Expr
	Assigns []Assign
}

func (*Scan) opNode() {}

// Pos returns the operator's position.
func (o *Scan) Pos() Pos { return o.At }

// String renders the operator.
func (o *Scan) String() string {
	s := "scan"
	if o.MatchID != "" {
		s += " with_match_id=" + quoteName(o.MatchID)
	}
	if len(o.Declare) > 0 {
		decl := make([]string, len(o.Declare))
		for i, d := range o.Declare {
			decl[i] = quoteName(d.Name) + ":" + d.Type
			if d.Default != nil {
				decl[i] += " = " + d.Default.String()
			}
		}
		s += " declare (" + strings.Join(decl, ", ") + ")"
	}
	var steps []string
	for _, st := range o.Steps {
		x := "step " + quoteName(st.Name)
		if st.Output != "" {
			x += " output=" + st.Output
		}
		x += ": " + st.Cond.String()
		if len(st.Assigns) > 0 {
			x += " => " + assignsString(st.Assigns)
		}
		steps = append(steps, x+";")
	}
	return s + " with (" + strings.Join(steps, " ") + ")"
}

func (p *parser) parseScan(t token) *Scan {
	o := &Scan{At: t.pos}
	if p.acceptWord("with_match_id") {
		p.expectPunct("=")
		o.MatchID, _ = p.expectName()
	}
	if p.acceptWord("declare") {
		o.Declare = p.parseParamList(func(t token, name string) {
			if keywordNames[name] {
				p.fail(t, "'%s' is a keyword and cannot name a scan variable", name)
			}
		})
	}
	p.expectWord("with")
	p.expectPunct("(")
	seen := map[string]bool{}
	for p.isWord("step") {
		p.next()
		nameTok := p.peek()
		name, _ := p.expectName()
		if seen[name] {
			p.fail(nameTok, "scan step '%s' is defined twice", name)
		}
		seen[name] = true
		st := ScanStep{Name: name}
		if p.acceptWord("output") {
			p.expectPunct("=")
			ot := p.peek()
			mode, _ := p.expectName()
			if mode != "all" && mode != "last" && mode != "none" {
				p.fail(ot, "a scan step's output is all, last or none, not '%s'", mode)
			}
			st.Output = mode
		}
		p.expectPunct(":")
		st.Cond = p.parseExpr()
		if p.acceptPunct("=>") {
			st.Assigns = p.parseAssigns()
		}
		p.expectPunct(";")
		o.Steps = append(o.Steps, st)
	}
	if len(o.Steps) == 0 {
		p.fail(p.peek(), "scan needs at least one step")
	}
	p.expectPunct(")")
	return o
}
