// Package version holds the version stamped into every gopherscope binary at
// link time (-ldflags "-X github.com/gopherscope/gopherscope/version.Version=v1.2.3").
package version

// Version is the release this binary was built from; "dev" when not stamped.
var Version = "dev"
