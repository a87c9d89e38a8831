package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/gopherscope/gopherscope/test/localcluster"
)

// diagNodeFlag makes benchreport measure the diagnostics API on the real
// node instead, writing the rows to the flag's file.
const diagNodeFlag = "diagnostics-node"

// nodeLockPath is the lock `make e2e` runs under (flock(1) on the same
// file): one real node runs on a machine at a time, and the bench waits its
// turn.
const nodeLockPath = "/tmp/gopherscope-e2e.lock"

// diagGroup is the table group of the diagnostics API's figures.
const diagGroup = "diagnostics API (real node)"

// benchDiagnostics measures the diagnostics API on the real node: where
// the node cannot run it says why in the table and goes on; otherwise it
// waits for the node lock and runs this program again in its internal
// diagnostics-node mode, which enters the node's network namespace,
// starts the node, measures and hands the rows back in a file.
func benchDiagnostics(ctx context.Context, opts *options, workDir string, t *table, logf func(string, ...any)) error {
	if err := localcluster.NodeSupported(); err != nil {
		logf("diagnostics API: skipped, the real node cannot run here: %v", err)
		t.add(row{group: diagGroup, figure: "skipped: the real node cannot run here (`--parts webhook,sidecar` leaves it out)", value: err.Error(), target: "—"})
		return nil
	}
	if err := os.MkdirAll(workDir, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", workDir, err)
	}
	unlock, err := lockNode(ctx, logf)
	if err != nil {
		return err
	}
	defer unlock()
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the benchreport binary: %w", err)
	}
	rowsPath := filepath.Join(workDir, "rows.json")
	cmd := exec.CommandContext(ctx, self, //nolint:gosec // this program, run again
		"--"+diagNodeFlag+"="+rowsPath, "--repo="+opts.RepoRoot, "--work-dir="+workDir,
		"--heap-requests="+strconv.Itoa(opts.HeapRequests), "--cpu-seconds="+strconv.Itoa(opts.CPUSeconds),
		"--cpu-rounds="+strconv.Itoa(opts.CPURounds), "--top-pods="+strconv.Itoa(opts.TopPods), "--top-runs="+strconv.Itoa(opts.TopRuns))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("measure the diagnostics API on the real node: %w (its output is above; the node's logs are in %s/logs)", err, localcluster.DefaultNodeRunDir)
	}
	rows, err := readRows(rowsPath)
	if err != nil {
		return err
	}
	for _, r := range rows {
		t.add(r)
	}
	return nil
}

// lockNode takes the node lock, saying so when it has to wait, and returns
// its release. Ctrl-C while waiting returns at once.
func lockNode(ctx context.Context, logf func(string, ...any)) (func(), error) {
	f, err := os.OpenFile(nodeLockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the node lock %s: %w", nodeLockPath, err)
	}
	release := func() { _ = f.Close() } // closing the file releases the lock
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		return release, nil
	}
	logf("diagnostics API: waiting for %s (an e2e run or another bench holds the real node)", nodeLockPath)
	locked := make(chan error, 1)
	go func() { locked <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
	select {
	case err := <-locked:
		if err != nil {
			release()
			return nil, fmt.Errorf("lock %s: %w", nodeLockPath, err)
		}
		return release, nil
	case <-ctx.Done():
		release()
		return nil, fmt.Errorf("waiting for %s: %w", nodeLockPath, ctx.Err())
	}
}

// rowRecord is a row as the diagnostics-node mode hands it over.
type rowRecord struct {
	Group, Figure, Value, Floor, Ratio, Target string
	Verdict                                    verdict
}

// writeRows writes rows to path as JSON.
func writeRows(path string, rows []row) error {
	records := make([]rowRecord, len(rows))
	for i, r := range rows {
		records[i] = rowRecord{r.group, r.figure, r.value, r.floor, r.ratio, r.target, r.verdict}
	}
	data, err := json.Marshal(records)
	if err != nil {
		return fmt.Errorf("encode the diagnostics rows: %w", err)
	}
	return os.WriteFile(path, data, 0o600)
}

// readRows reads what writeRows wrote.
func readRows(path string) ([]row, error) {
	data, err := os.ReadFile(path) //nolint:gosec // the file this program's own child wrote
	if err != nil {
		return nil, fmt.Errorf("read the diagnostics rows: %w", err)
	}
	var records []rowRecord
	if err := json.Unmarshal(data, &records); err != nil {
		return nil, fmt.Errorf("decode the diagnostics rows %s: %w", path, err)
	}
	if len(records) == 0 {
		return nil, errors.New("the diagnostics measurements wrote no rows")
	}
	rows := make([]row, len(records))
	for i, r := range records {
		rows[i] = row{group: r.Group, figure: r.Figure, value: r.Value, floor: r.Floor, ratio: r.Ratio, target: r.Target, verdict: r.Verdict}
	}
	return rows, nil
}
