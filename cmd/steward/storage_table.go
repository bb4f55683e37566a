package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
)

func newStorageTableCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "table", Short: "Manage the tables of a storage account (az storage table)"}
	create := &cobra.Command{Use: "create NAME", Short: "Create a table", Args: cobra.ExactArgs(1), RunE: runTable,
		Example: `  steward storage table create applications --account registry001`}
	del := &cobra.Command{Use: "delete NAME", Short: "Delete a table with its entities", Args: cobra.ExactArgs(1), RunE: runTable,
		Example: `  steward storage table delete applications --account registry001`}
	list := &cobra.Command{Use: "list", Short: "List tables", Args: cobra.NoArgs, RunE: runTable,
		Example: `  steward storage table list --account registry001 -o json`}
	for _, c := range []*cobra.Command{create, del, list} {
		addTableFlags(c)
		cmd.AddCommand(c)
	}
	return cmd
}

func newStorageEntityCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "entity", Short: "Manage the entities of a table (az storage entity)"}
	insert := &cobra.Command{Use: "insert", Short: "Insert an entity (fails when it exists; --replace upserts)", Args: cobra.NoArgs, RunE: runEntityInsert,
		Example: `  steward storage entity insert --account registry001 --table applications \
    --partition-key sub-1 --row-key app-a --properties '{"mrg_name":"mrg-a","count":2}'`}
	insert.Flags().String("properties", "{}", "properties as a JSON object (Int64, DateTime... as name@odata.type annotations)")
	insert.Flags().Bool("replace", false, "insert or replace")
	show := &cobra.Command{Use: "show", Short: "Show one entity", Args: cobra.NoArgs, RunE: runEntityShow,
		Example: `  steward storage entity show --account registry001 --table applications --partition-key sub-1 --row-key app-a`}
	list := &cobra.Command{Use: "list", Short: "Query entities with an OData filter", Args: cobra.NoArgs, RunE: runEntityList,
		Example: `  steward storage entity list --account registry001 --table applications --filter "PartitionKey eq 'sub-1'"`}
	list.Flags().String("filter", "", "OData $filter")
	list.Flags().String("select", "", "properties to return, comma-separated")
	list.Flags().Int32("top", 0, "at most this many entities (default all)")
	del := &cobra.Command{Use: "delete", Short: "Delete one entity", Args: cobra.NoArgs, RunE: runEntityDelete,
		Example: `  steward storage entity delete --account registry001 --table applications --partition-key sub-1 --row-key app-a`}
	for _, c := range []*cobra.Command{insert, show, list, del} {
		addTableFlags(c)
		c.Flags().String("table", "", "table name")
		if c != list {
			c.Flags().String("partition-key", "", "PartitionKey")
			c.Flags().String("row-key", "", "RowKey")
		}
		cmd.AddCommand(c)
	}
	return cmd
}

func addTableFlags(c *cobra.Command) {
	addAPIFlags(c)
	c.Flags().String("account", "", "storage account name")
	c.Flags().StringP("group", "g", "", "resource group (default: found by name)")
}

// tableService signs in to an account's Table service with key1.
func tableService(cmd *cobra.Command) (*aztables.ServiceClient, error) {
	name, _ := cmd.Flags().GetString("account")
	if name == "" {
		return nil, &exitError{code: 2, msg: "give the storage account with --account"}
	}
	t, err := storageAccount(cmd, name)
	if err != nil {
		return nil, err
	}
	key, endpoint, err := t.accountKey(cmd.Context())
	if err != nil {
		return nil, err
	}
	cred, err := aztables.NewSharedKeyCredential(t.name, key)
	if err != nil {
		return nil, err
	}
	return aztables.NewServiceClientWithSharedKey(endpoint, cred, &aztables.ClientOptions{ClientOptions: t.api.opts.ClientOptions})
}

func tableClient(cmd *cobra.Command) (*aztables.Client, error) {
	table, _ := cmd.Flags().GetString("table")
	if table == "" {
		return nil, &exitError{code: 2, msg: "give the table with --table"}
	}
	s, err := tableService(cmd)
	if err != nil {
		return nil, err
	}
	return s.NewClient(table), nil
}

func runTable(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	s, err := tableService(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	switch cmd.Name() {
	case "create":
		if _, err := s.CreateTable(ctx, args[0], nil); err != nil {
			return apiError(err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Created table %s.\n", args[0])
		return nil
	case "delete":
		if _, err := s.DeleteTable(ctx, args[0], nil); err != nil {
			return apiError(err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Deleted table %s.\n", args[0])
		return nil
	}
	var names []string
	for p := s.NewListTablesPager(nil); p.More(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return apiError(err)
		}
		for _, t := range page.Tables {
			names = append(names, deref(t.Name))
		}
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), names)
	}
	rows := make([][]string, 0, len(names))
	for _, n := range names {
		rows = append(rows, []string{n})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"TABLE"}, rows)
}

func entityKeys(cmd *cobra.Command) (string, string, error) {
	pk, _ := cmd.Flags().GetString("partition-key")
	rk, _ := cmd.Flags().GetString("row-key")
	if !cmd.Flags().Changed("partition-key") || !cmd.Flags().Changed("row-key") {
		return "", "", &exitError{code: 2, msg: "give --partition-key and --row-key"}
	}
	return pk, rk, nil
}

func runEntityInsert(cmd *cobra.Command, _ []string) error {
	pk, rk, err := entityKeys(cmd)
	if err != nil {
		return err
	}
	raw, _ := cmd.Flags().GetString("properties")
	var props map[string]any
	if err := json.Unmarshal([]byte(raw), &props); err != nil || props == nil {
		return &exitError{code: 2, msg: "--properties must be a JSON object"}
	}
	props["PartitionKey"], props["RowKey"] = pk, rk
	body, _ := json.Marshal(props)
	c, err := tableClient(cmd)
	if err != nil {
		return err
	}
	if replace, _ := cmd.Flags().GetBool("replace"); replace {
		_, err = c.UpsertEntity(cmd.Context(), body, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace})
	} else {
		_, err = c.AddEntity(cmd.Context(), body, nil)
	}
	if err != nil {
		return apiError(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Wrote entity (%s, %s).\n", pk, rk)
	return nil
}

func runEntityShow(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	pk, rk, err := entityKeys(cmd)
	if err != nil {
		return err
	}
	c, err := tableClient(cmd)
	if err != nil {
		return err
	}
	res, err := c.GetEntity(cmd.Context(), pk, rk, nil)
	if err != nil {
		return apiError(err)
	}
	return writeEntities(cmd, format, [][]byte{res.Value})
}

func runEntityList(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	c, err := tableClient(cmd)
	if err != nil {
		return err
	}
	opts := &aztables.ListEntitiesOptions{}
	if f, _ := cmd.Flags().GetString("filter"); f != "" {
		opts.Filter = to.Ptr(f)
	}
	if s, _ := cmd.Flags().GetString("select"); s != "" {
		opts.Select = to.Ptr(s)
	}
	top, _ := cmd.Flags().GetInt32("top")
	if top > 0 {
		opts.Top = to.Ptr(top)
	}
	var rows [][]byte
	for p := c.NewListEntitiesPager(opts); p.More(); {
		page, err := p.NextPage(cmd.Context())
		if err != nil {
			return apiError(err)
		}
		rows = append(rows, page.Entities...)
		if top > 0 && len(rows) >= int(top) {
			rows = rows[:top]
			break
		}
	}
	return writeEntities(cmd, format, rows)
}

func runEntityDelete(cmd *cobra.Command, _ []string) error {
	pk, rk, err := entityKeys(cmd)
	if err != nil {
		return err
	}
	c, err := tableClient(cmd)
	if err != nil {
		return err
	}
	if _, err := c.DeleteEntity(cmd.Context(), pk, rk, nil); err != nil {
		return apiError(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Deleted entity (%s, %s).\n", pk, rk)
	return nil
}

// writeEntities prints entities: as JSON, or as a table with a column per
// property (annotations and odata members left out).
func writeEntities(cmd *cobra.Command, format cliout.Format, raw [][]byte) error {
	ents := make([]map[string]any, 0, len(raw))
	for _, b := range raw {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		ents = append(ents, m)
	}
	if format == cliout.JSON {
		if cmd.Name() == "show" && len(ents) == 1 {
			return cliout.WriteJSON(cmd.OutOrStdout(), ents[0])
		}
		return cliout.WriteJSON(cmd.OutOrStdout(), ents)
	}
	cols := map[string]bool{}
	for _, e := range ents {
		for k := range e {
			if !strings.Contains(k, "odata") && k != "PartitionKey" && k != "RowKey" && k != "Timestamp" {
				cols[k] = true
			}
		}
	}
	names := make([]string, 0, len(cols))
	for k := range cols {
		names = append(names, k)
	}
	sort.Strings(names)
	header := append([]string{"PARTITIONKEY", "ROWKEY"}, names...)
	rows := make([][]string, 0, len(ents))
	for _, e := range ents {
		row := []string{fmt.Sprint(e["PartitionKey"]), fmt.Sprint(e["RowKey"])}
		for _, n := range names {
			if v, ok := e[n]; ok {
				row = append(row, fmt.Sprint(v))
			} else {
				row = append(row, "")
			}
		}
		rows = append(rows, row)
	}
	return cliout.WriteTable(cmd.OutOrStdout(), header, rows)
}
