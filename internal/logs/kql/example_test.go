package kql_test

import (
	"context"
	"fmt"
	"time"

	"github.com/steward-gov/steward/internal/logs/kql"
)

func ExampleRun() {
	res, err := kql.Run(context.Background(),
		`datatable(k:string, v:long)["a", 1, "b", 2, "a", 3] | summarize total = sum(v), n = count() by k | order by k asc`,
		kql.Options{})
	if err != nil {
		panic(err)
	}
	for _, r := range res.Rows {
		fmt.Println(r[0].Text(), r[1].Text(), r[2].Text())
	}
	// Output:
	// 'a' 4 2
	// 'b' 2 1
}

func ExampleMemSource() {
	day := func(d int) kql.Value {
		return kql.DateTimeOf(time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC))
	}
	src := &kql.MemSource{Tables: map[string]*kql.MemTable{
		"Events": {
			Columns: []kql.Column{{Name: "TimeGenerated", Type: kql.TypeDateTime}, {Name: "Resource", Type: kql.TypeString}},
			Rows:    []kql.Row{{day(1), kql.String("vm1")}, {day(3), kql.String("vm1")}, {day(2), kql.String("vm2")}},
		},
	}}
	res, err := kql.Run(context.Background(), `Events | summarize arg_max(TimeGenerated, *) by Resource | order by Resource asc`, kql.Options{Source: src})
	if err != nil {
		panic(err)
	}
	for _, r := range res.Rows {
		fmt.Println(r[0].Plain(), r[1].Plain())
	}
	// Output:
	// vm1 2024-01-03T00:00:00.0000000Z
	// vm2 2024-01-02T00:00:00.0000000Z
}
