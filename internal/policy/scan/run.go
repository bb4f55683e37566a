package scan

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"time"

	"github.com/steward-gov/steward/internal/policy"
)

// Policies says which policies a scan assigns: definitions and
// initiatives to assign (PolicyPaths) or only to resolve members from
// (DefinitionPaths), assignment and exemption files, and the settings
// for default assignments.
type Policies struct {
	PolicyPaths     []string
	DefinitionPaths []string
	// PolicyFS, when set, adds the definitions and initiatives of a file
	// system to assign (the embedded baseline).
	PolicyFS fs.FS
	// DefinitionFS resolves initiative members without assigning them.
	DefinitionFS    fs.FS
	AssignmentFiles []string
	ExemptionFiles  []string
	Defaults        Defaults
	Aliases         *policy.AliasTable
	// AllowUnknownAliases makes a field naming an alias Aliases lacks
	// not applicable instead of an error (see policy.CompileOptions).
	AllowUnknownAliases bool
}

// compileOptions are the compile options the policies ask for.
func (in Policies) compileOptions() policy.CompileOptions {
	return policy.CompileOptions{Aliases: in.Aliases, AllowUnknownAliases: in.AllowUnknownAliases}
}

// LoadPlan reads and compiles the policies. Without assignment files,
// every definition and initiative under PolicyPaths is assigned at
// Defaults.Scope (see DefaultAssignments). Documents that cannot be used
// are listed in Plan.Problems; an error means the inputs could not be
// read at all.
func LoadPlan(in Policies) (*Plan, error) {
	c := NewCatalog()
	if err := c.Load(in.PolicyPaths, true); err != nil {
		return nil, err
	}
	if err := c.Load(in.DefinitionPaths, false); err != nil {
		return nil, err
	}
	if in.PolicyFS != nil {
		if err := c.LoadFS(in.PolicyFS, true); err != nil {
			return nil, err
		}
	}
	if in.DefinitionFS != nil {
		if err := c.LoadFS(in.DefinitionFS, false); err != nil {
			return nil, err
		}
	}
	var assignments []*policy.Assignment
	var problems []Problem
	if len(in.AssignmentFiles) > 0 {
		for _, f := range in.AssignmentFiles {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			a, err := policy.ParseAssignment(data)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			in.Defaults.Override(a)
			assignments = append(assignments, a)
		}
	} else {
		assignments, problems = DefaultAssignments(c, in.Defaults)
	}
	exemptions, err := loadExemptions(in.ExemptionFiles)
	if err != nil {
		return nil, err
	}
	p := Compile(c, assignments, exemptions, in.compileOptions())
	p.Problems = append(append(append([]Problem{}, c.Problems...), problems...), p.Problems...)
	return p, nil
}

func loadExemptions(files []string) ([]*policy.Exemption, error) {
	var out []*policy.Exemption
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		e, err := policy.ParseExemption(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Estate opens an estate export; the scan reads it twice (a first pass
// indexes resource groups, subscriptions and related resources).
type Estate func() (io.ReadCloser, error)

// FileEstate opens a file.
func FileEstate(path string) Estate { return func() (io.ReadCloser, error) { return os.Open(path) } }

// Config is a scan's settings besides its plan and output.
type Config struct {
	Format  Format
	Workers int
	Now     func() time.Time
	Aliases *policy.AliasTable
	// Progress, when set, receives the scanner before the second pass so
	// the caller can watch Scanned.
	Progress func(*Scanner)
	// LazyExplain: see Scanner.LazyExplain (the table output keeps at
	// most --limit findings, so it explains only those).
	LazyExplain bool
	// Stats, when set, receives where the scan's time went.
	Stats *Stats
}

// skipIndexPass lets a scan whose plan cannot read the index (see
// Plan.needsIndex) read the estate once (a test turns it off to compare).
var skipIndexPass = true

// Run scans an estate against a plan and writes the output to sink: a
// first pass builds the index, the second evaluates.
func Run(ctx context.Context, estate Estate, plan *Plan, cfg Config, sink Sink) (*Report, error) {
	return run(ctx, estate, &Scanner{Plan: plan}, cfg, sink)
}

// RunDiff compares two plans' single assignments over an estate (see
// NewDiffScanner).
func RunDiff(ctx context.Context, estate Estate, plan *Plan, cfg Config, sink Sink) (*Report, error) {
	if len(plan.Targets) != 2 {
		return nil, fmt.Errorf("a diff needs the old and the new initiative compiled, got %d", len(plan.Targets))
	}
	return run(ctx, estate, NewDiffScanner(plan, nil), cfg, sink)
}

func run(ctx context.Context, estate Estate, s *Scanner, cfg Config, sink Sink) (*Report, error) {
	began := time.Now()
	if cfg.Stats != nil {
		s.clock = &statClock{}
		defer func() { load := cfg.Stats.Load; cfg.Stats.fill(s, began); cfg.Stats.Load = load }()
	}
	types, all := s.Plan.relatedTypes()
	idx := NewIndex(types, all)
	needsIndex := s.Plan.needsIndex()
	s.noContainers = skipIndexPass && !needsIndex
	if !skipIndexPass || needsIndex {
		f, err := estate()
		if err != nil {
			return nil, err
		}
		first := time.Now()
		_, err = read(ctx, s.clock.reader(f), cfg.Format, idx.filter(), func(r Record) error {
			if r.Err == nil {
				idx.Add(r.Doc)
			}
			return nil
		})
		f.Close()
		if s.clock != nil {
			// the first pass is reading, and parsing with the index built
			s.clock.parse.Add(int64(time.Since(first)) - s.clock.read.Load())
		}
		if err != nil && ctx.Err() != nil {
			return nil, err
		}
	}
	s.Index, s.Aliases, s.Workers, s.Now, s.LazyExplain = idx, cfg.Aliases, cfg.Workers, cfg.Now, cfg.LazyExplain
	if cfg.Progress != nil {
		cfg.Progress(s)
	}
	f, err := estate()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return s.Scan(ctx, func(fn func(Record) error) error {
		// the workers decode the records: parsing is most of a scan's
		// work, and the reader alone would hold it to one core
		_, err := readLazy(ctx, s.clock.reader(f), cfg.Format, fn)
		return err
	}, sink)
}

// fill copies the scanner's phase times.
func (st *Stats) fill(s *Scanner, began time.Time) {
	c := s.clock
	workers := s.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	*st = Stats{Read: time.Duration(c.read.Load()), Parse: time.Duration(c.parse.Load()),
		Evaluate: time.Duration(c.eval.Load()), Report: time.Duration(c.report.Load()),
		Total: time.Since(began), Workers: workers, Records: s.Scanned.Load()}
}

// RunRecords scans resources already in memory (such as the resources a
// template expands to), each with its own location: the index of related
// resources is built from them, then they are evaluated.
func RunRecords(ctx context.Context, records []Record, plan *Plan, cfg Config, sink Sink) (*Report, error) {
	types, all := plan.relatedTypes()
	idx := NewIndex(types, all)
	for _, r := range records {
		if r.Err == nil {
			idx.Add(r.Doc)
		}
	}
	s := &Scanner{Plan: plan, Index: idx, Aliases: cfg.Aliases, Workers: cfg.Workers, Now: cfg.Now, LazyExplain: cfg.LazyExplain}
	return s.Scan(ctx, func(fn func(Record) error) error {
		for _, r := range records {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}, sink)
}
