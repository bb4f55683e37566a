package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
)

// groupedResource is what the list, show and delete commands of a
// resource type that lives in resource groups need of its SDK client.
type groupedResource[T any] struct {
	noun  string // as the delete message names one, such as "alert rule"
	get   func(ctx context.Context, rg, name string) (*T, error)
	del   func(ctx context.Context, rg, name string) error
	list  func(cmd *cobra.Command, rg string) ([]*T, error) // the subscription's when rg is ""
	print func(cmd *cobra.Command, format cliout.Format, items []*T, list bool) error
}

// groupedList lists the resources of -g, or of the subscription without it.
func groupedList[T any](open func(*cobra.Command) (*groupedResource[T], error)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		format, err := outputFormat(cmd)
		if err != nil {
			return err
		}
		r, err := open(cmd)
		if err != nil {
			return err
		}
		rg, _ := cmd.Flags().GetString("resource-group")
		out, err := r.list(cmd, rg)
		if err != nil {
			return err
		}
		return r.print(cmd, format, out, true)
	}
}

// openInGroup reads -g, which the command needs, and opens the client.
func openInGroup[T any](cmd *cobra.Command, open func(*cobra.Command) (*groupedResource[T], error)) (*groupedResource[T], string, error) {
	rg, err := requireGroup(cmd)
	if err != nil {
		return nil, "", err
	}
	r, err := open(cmd)
	return r, rg, err
}

// groupedShow shows the resource named by the argument in -g.
func groupedShow[T any](open func(*cobra.Command) (*groupedResource[T], error)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		format, err := outputFormat(cmd)
		if err != nil {
			return err
		}
		r, rg, err := openInGroup(cmd, open)
		if err != nil {
			return err
		}
		out, err := r.get(cmd.Context(), rg, args[0])
		if err != nil {
			return apiError(err)
		}
		return r.print(cmd, format, []*T{out}, false)
	}
}

// groupedDelete deletes the resource named by the argument in -g, after
// reading it: ARM answers 204 to a delete of nothing, and the command
// says that it is not there instead.
func groupedDelete[T any](open func(*cobra.Command) (*groupedResource[T], error)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		r, rg, err := openInGroup(cmd, open)
		if err != nil {
			return err
		}
		if _, err := r.get(cmd.Context(), rg, args[0]); err != nil {
			return apiError(err)
		}
		if err := r.del(cmd.Context(), rg, args[0]); err != nil {
			return apiError(err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "Deleted %s %s.\n", r.noun, args[0])
		return nil
	}
}
