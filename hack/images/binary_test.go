package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestReadStaticBinary(t *testing.T) {
	binDir := releaseBinaries(t)
	amd64 := v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 := v1.Platform{OS: "linux", Architecture: "arm64"}
	text := filepath.Join(t.TempDir(), "sidecar")
	if err := os.WriteFile(text, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		platform v1.Platform
		wantErr  string // empty: accepted
	}{
		{name: "a static linux/amd64 binary is accepted for linux/amd64",
			path: filepath.Join(binDir, "linux_amd64", "sidecar"), platform: amd64},
		{name: "a static linux/arm64 binary is accepted for linux/arm64",
			path: filepath.Join(binDir, "linux_arm64", "sidecar"), platform: arm64},
		{name: "an amd64 binary is refused for linux/arm64",
			path: filepath.Join(binDir, "linux_amd64", "sidecar"), platform: arm64,
			wantErr: "is a EM_X86_64 ET_EXEC, want an EM_AARCH64 executable for linux/arm64"},
		{name: "a script is refused", path: text, platform: amd64, wantErr: "is not an ELF executable"},
		{name: "a missing binary is refused with its platform", path: filepath.Join(binDir, "linux_s390x", "sidecar"),
			platform: v1.Platform{OS: "linux", Architecture: "s390x"}, wantErr: "read binary for linux/s390x"},
		{name: "a dynamically linked binary is refused", path: "/bin/ls", platform: amd64,
			wantErr: "is dynamically linked (it has a program interpreter); build it with CGO_ENABLED=0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.path == "/bin/ls" {
				if _, err := os.Stat(tc.path); err != nil || runtime.GOOS+"/"+runtime.GOARCH != "linux/amd64" {
					t.Skip("needs a dynamically linked /bin/ls on linux/amd64")
				}
			}
			data, err := readStaticBinary(tc.path, tc.platform)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("readStaticBinary() = %v, want the binary", err)
				}
				if want, _ := os.ReadFile(tc.path); len(data) != len(want) || len(data) == 0 {
					t.Errorf("readStaticBinary() returned %d bytes, want the file's %d", len(data), len(want))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("readStaticBinary() = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
