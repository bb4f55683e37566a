package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

type staticToken struct{}

func (staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "t"}, nil
}

// listServer serves an ARM list whose page n links to page n+1 while more
// says so; it counts the pages asked for.
func listServer(t *testing.T, more func(n int) bool) (*azarm.Client, *atomic.Int32) {
	var asked atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		n, _ := strconv.Atoi(r.URL.Query().Get("page"))
		next := ""
		if more(n) {
			next = fmt.Sprintf(`,"nextLink":"%s/list?page=%d"`, srv.URL, n+1)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"value":[{"name":"item%d"}]%s}`, n, next)
	}))
	t.Cleanup(srv.Close)
	opts := clientOptions("https://login.invalid", srv.URL, srv.Client())
	opts.Retry = policy.RetryOptions{MaxRetries: -1}
	c, err := azarm.NewClient("steward-test", "v1.0.0", staticToken{}, &azarm.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	return c, &asked
}

func TestARMListFollowsNextLinks(t *testing.T) {
	c, asked := listServer(t, func(n int) bool { return n < 2 })
	items, err := armList(context.Background(), c, c.Endpoint()+"/list?page=0")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, it := range items {
		names = append(names, str(it["name"]))
	}
	if fmt.Sprint(names) != "[item0 item1 item2]" || asked.Load() != 3 {
		t.Errorf("items %v after %d pages; want item0..item2 from 3", names, asked.Load())
	}
}

func TestARMListStopsWithAnErrorAfterMaxPages(t *testing.T) {
	c, asked := listServer(t, func(int) bool { return true })
	items, err := armList(context.Background(), c, c.Endpoint()+"/list?page=0")
	var ex *exitError
	if !errors.As(err, &ex) || ex.code != exitNo || items != nil {
		t.Fatalf("an endless list: %d items, %v; want exit %d and no items", len(items), err, exitNo)
	}
	if n := asked.Load(); n != maxListPages {
		t.Errorf("%d pages read; want %d", n, maxListPages)
	}
}
