package main

import (
	"bytes"
	"debug/elf"
	"fmt"
	"maps"
	"os"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// elfMachines maps the GOARCH of each supported Linux platform to the ELF
// machine its binaries are built for.
var elfMachines = map[string]elf.Machine{
	"amd64":   elf.EM_X86_64,
	"arm64":   elf.EM_AARCH64,
	"arm":     elf.EM_ARM,
	"386":     elf.EM_386,
	"ppc64le": elf.EM_PPC64,
	"s390x":   elf.EM_S390,
	"riscv64": elf.EM_RISCV,
}

// supportedArchitectures lists elfMachines' keys in order.
func supportedArchitectures() []string {
	return slices.Sorted(maps.Keys(elfMachines))
}

// readStaticBinary reads the binary at path and checks that it can run in a
// scratch image of platform p: an ELF executable for p's architecture with no
// program interpreter and no shared libraries (CGO_ENABLED=0).
func readStaticBinary(path string, p v1.Platform) ([]byte, error) {
	data, err := os.ReadFile(path) //nolint:gosec // reading the binary the caller names is the point.
	if err != nil {
		return nil, fmt.Errorf("read binary for %s: %w", p.String(), err)
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("binary %q is not an ELF executable: %w", path, err)
	}
	want, ok := elfMachines[p.Architecture]
	if !ok {
		return nil, fmt.Errorf("binary %q: unsupported architecture %q", path, p.Architecture)
	}
	if f.Machine != want || (f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN) {
		return nil, fmt.Errorf("binary %q is a %s %s, want an %s executable for %s", path, f.Machine, f.Type, want, p.String())
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return nil, fmt.Errorf("binary %q is dynamically linked (it has a program interpreter); build it with CGO_ENABLED=0", path)
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return nil, fmt.Errorf("binary %q: read dynamic section: %w", path, err)
	}
	if len(libs) > 0 {
		return nil, fmt.Errorf("binary %q needs shared libraries %v; build it with CGO_ENABLED=0", path, libs)
	}
	return data, nil
}
