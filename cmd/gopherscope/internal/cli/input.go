package cli

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// input is one file read for -f: its name for messages, and its bytes.
type input struct {
	name string
	data []byte
}

// manifestExtensions are the files a directory given with -f contributes,
// as with kubectl; a file named on its own is read whatever its name.
var manifestExtensions = []string{".yaml", ".yml", ".json"}

// readInputs reads every -f in the order given: "-" is stdin, a directory
// is its manifest files in lexical order (its subdirectories' too when
// recursive), anything else a file.
func readInputs(filenames []string, recursive bool, stdin io.Reader) ([]input, error) {
	var inputs []input
	for _, name := range filenames {
		if name == "-" {
			data, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("read stdin: %w", err)
			}
			inputs = append(inputs, input{name: "stdin", data: data})
			continue
		}
		info, err := os.Stat(name)
		if err != nil {
			return nil, fmt.Errorf("read %q: %w", name, err)
		}
		files := []string{name}
		if info.IsDir() {
			if files, err = manifestFiles(name, recursive); err != nil {
				return nil, err
			}
		}
		for _, f := range files {
			data, err := os.ReadFile(f) //nolint:gosec // G304: reading the files the user names is the command's job
			if err != nil {
				return nil, fmt.Errorf("read %q: %w", f, err)
			}
			inputs = append(inputs, input{name: f, data: data})
		}
	}
	return inputs, nil
}

// manifestFiles lists the manifest files of dir in lexical order, and of its
// subdirectories when recursive.
func manifestFiles(dir string, recursive bool) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		if slices.Contains(manifestExtensions, strings.ToLower(filepath.Ext(path))) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read directory %q: %w", dir, err)
	}
	if len(files) == 0 {
		hint := ""
		if !recursive {
			hint = " (add -R for its subdirectories)"
		}
		return nil, fmt.Errorf("directory %q holds no .yaml, .yml or .json file%s", dir, hint)
	}
	return files, nil
}
