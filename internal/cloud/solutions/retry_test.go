package solutions

import (
	"testing"
	"time"
)

func TestResourceURIAppendsResourceAndKeepsTheQuery(t *testing.T) {
	for in, want := range map[string]string{
		"https://pub.example/api":              "https://pub.example/api/resource",
		"https://pub.example/api/?sig=a%2Bb":   "https://pub.example/api/resource?sig=a%2Bb",
		"https://pub.example":                  "https://pub.example/resource",
		"http://127.0.0.1:8080/hooks?sig=s3cr": "http://127.0.0.1:8080/hooks/resource?sig=s3cr",
	} {
		if got := resourceURI(in); got != want {
			t.Errorf("resourceURI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOutboxKeysOrderByDueTime(t *testing.T) {
	early, late := time.Unix(1_700_000_000, 5), time.Unix(1_700_000_001, 0)
	a, b := outboxKey(late), outboxKey(early)
	if !(b < a) {
		t.Errorf("key of the earlier notification %q does not sort before %q", b, a)
	}
	if got := keyDue(b); !got.Equal(early) {
		t.Errorf("keyDue = %v, want %v", got, early)
	}
}

func TestRetryableAnswers(t *testing.T) {
	for status, want := range map[int]bool{500: true, 503: true, 429: true, 404: true, 400: false, 401: false, 409: false} {
		if retryable(status) != want {
			t.Errorf("retryable(%d) = %v, want %v", status, !want, want)
		}
	}
}
