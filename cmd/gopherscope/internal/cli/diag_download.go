package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// download is one resource of one pod written to a file.
type download struct {
	namespace, pod, resource string
	query                    url.Values
	// path is the file to write.
	path string
	// check, if set, reads the downloaded file before it becomes path
	// (a profile that does not parse is not kept).
	check func(path string) error
}

// run streams the resource into a temporary file next to path and renames
// it to path once whole and checked, so that path is never a partial file.
// It returns the number of bytes written. The file is readable by its owner
// alone: profiles and dumps can hold what the app has in memory.
func (d download) run(ctx context.Context, client *diagClient) (n int64, err error) {
	if d.path == "" || strings.HasSuffix(d.path, string(os.PathSeparator)) {
		return 0, usageError{fmt.Errorf("-o %q: want a file name", d.path)}
	}
	tmp, err := os.CreateTemp(filepath.Dir(d.path), "."+filepath.Base(d.path)+".*.part")
	if err != nil {
		return 0, fmt.Errorf("-o %s: %w", d.path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	body, err := client.stream(ctx, d.namespace, d.pod, d.resource, d.query)
	if err != nil {
		if ctx.Err() != nil {
			return 0, fmt.Errorf("%s/%s: interrupted; %s not written", d.namespace, d.pod, d.path)
		}
		return 0, err
	}
	n, err = io.Copy(tmp, body)
	_ = body.Close()
	if err != nil {
		if ctx.Err() != nil {
			return n, fmt.Errorf("%s/%s: interrupted after %d bytes; %s not written", d.namespace, d.pod, n, d.path)
		}
		return n, fmt.Errorf("%s/%s: the %s was cut after %d bytes: %w; %s not written", d.namespace, d.pod, d.resource, n, err, d.path)
	}
	if err = tmp.Close(); err != nil {
		return n, fmt.Errorf("-o %s: %w", d.path, err)
	}
	if d.check != nil {
		if err = d.check(tmp.Name()); err != nil {
			return n, fmt.Errorf("%s/%s: the %s (%d bytes) is not usable: %w; %s not written", d.namespace, d.pod, d.resource, n, err, d.path)
		}
	}
	if err = os.Rename(tmp.Name(), d.path); err != nil {
		return n, fmt.Errorf("-o %s: %w", d.path, err)
	}
	return n, nil
}

// copyTo streams the resource to w, for dumps printed on stdout.
func (d download) copyTo(ctx context.Context, client *diagClient, w io.Writer) error {
	body, err := client.stream(ctx, d.namespace, d.pod, d.resource, d.query)
	if err != nil {
		return err
	}
	defer func() { _ = body.Close() }()
	if _, err := io.Copy(w, body); err != nil {
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
		return fmt.Errorf("%s/%s: the %s was cut: %w", d.namespace, d.pod, d.resource, err)
	}
	return nil
}

// podArg is the POD argument: a name, or pod/NAME as kubectl writes it.
func podArg(args []string) (string, error) {
	if len(args) != 1 {
		return "", usageError{fmt.Errorf("want one POD, got %d arguments %q", len(args), args)}
	}
	name := strings.TrimPrefix(strings.TrimPrefix(args[0], "pods/"), "pod/")
	if name == "" || strings.Contains(name, "/") {
		return "", usageError{fmt.Errorf("POD %q: want a pod's name (use -n for its namespace)", args[0])}
	}
	return name, nil
}
