package main

import (
	"context"
	"fmt"
	"net/http"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// maxListPages bounds how many pages armList follows, so a server that
// hands back a nextLink forever cannot keep a command running.
const maxListPages = 1000

// armGet GETs link (a full URL, such as a nextLink) through the client's
// pipeline and decodes the JSON answer into out. An answer other than 200
// is an API error; a transport error is returned as it is.
func armGet(ctx context.Context, client *azarm.Client, link string, out any) error {
	req, err := runtime.NewRequest(ctx, http.MethodGet, link)
	if err != nil {
		return err
	}
	resp, err := client.Pipeline().Do(req)
	if err != nil {
		return err
	}
	if !runtime.HasStatusCode(resp, http.StatusOK) {
		return apiError(runtime.NewResponseError(resp))
	}
	return runtime.UnmarshalAsJSON(resp, out)
}

// armList reads an ARM list from link and every nextLink after it: the
// items of all pages, in order. The SDK's pagers are typed per resource
// type; this serves the lists the commands read as JSON objects.
func armList(ctx context.Context, client *azarm.Client, link string) ([]map[string]any, error) {
	var items []map[string]any
	for page := 0; link != ""; page++ {
		if page == maxListPages {
			return nil, &exitError{code: exitNo, msg: fmt.Sprintf("error: the list goes on past %d pages (the server keeps answering with a nextLink)", maxListPages)}
		}
		var body struct {
			Value    []map[string]any `json:"value"`
			NextLink string           `json:"nextLink"`
		}
		if err := armGet(ctx, client, link, &body); err != nil {
			return nil, err
		}
		items = append(items, body.Value...)
		link = body.NextLink
	}
	return items, nil
}
