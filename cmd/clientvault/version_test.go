package main

import (
	"strings"
	"testing"
)

// version prints what the release set with -ldflags, and otherwise what Go
// recorded in the binary (a module version for 'go install ...@v1.2.3', or
// the commit), never an empty string.
func TestBuildVersion(t *testing.T) {
	defer func(v string) { version = v }(version)
	version = "1.0.0"
	if got := buildVersion(); got != "1.0.0" {
		t.Errorf("set by ldflags: %q", got)
	}
	version = "dev"
	if got := buildVersion(); got == "" || (!strings.HasPrefix(got, "dev") && !strings.HasPrefix(got, "v")) {
		t.Errorf("from build info: %q", got)
	}
}
