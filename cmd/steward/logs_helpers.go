package main

import (
	"bytes"
	"errors"
	"io"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
)

// streamingBody wraps b as a request body the SDK can rewind.
func streamingBody(b []byte) io.ReadSeekCloser {
	return streaming.NopCloser(bytes.NewReader(b))
}

func asResponseError(err error, re **azcore.ResponseError) bool { return errors.As(err, re) }
